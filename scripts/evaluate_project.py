"""The DAG and testing rules of dbt-project-evaluator, checked on this project's manifest.

    python scripts/evaluate_project.py [--manifest target/manifest.json]

dbt-project-evaluator is a dbt package, and dbt packages cannot be installed here (no hub, no
GitHub), so its rules that matter for this project are re-implemented on `manifest.json`:

- staging_dependent_on_staging / staging_on_downstream: a staging model reads only sources and seeds.
- source_outside_staging: only staging models read sources.
- rejoining_of_upstream_concepts: model C reads A and B, B reads A, and B has no other child
  (B could be a CTE of C). Not counted: a mart as B (it is published for its own sake, not only
  for C) and the build-dates model as A (a one-row table of parameters, not a concept).
- model_fanout: a model with more than 3 direct children that are leaves (no children of their own).
- too_many_joins: a model with 7 or more direct parents.
- root_model: a model with no parent at all.
- missing_primary_key_test: a model without unique + not_null on one column, nor
  unique_combination_of_columns.
- undocumented: a model or column without a description.

A finding that is a deliberate design decision is listed in ACCEPTED with the reason (the reasons
are summarised in docs/architecture.md). Exit status 1 when there is a finding not accepted, or an
accepted finding that no longer occurs (so the list never goes stale).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path

FANOUT_THRESHOLD = 3
TOO_MANY_JOINS_THRESHOLD = 7
PARAMETER_MODELS = {"int_build_dates"}

# (rule, model) -> why it is so.
ACCEPTED: dict[tuple[str, str], str] = {
    ("too_many_joins", "quarantined_rows"):
        "the quarantine log is by definition the union of every staging model's rejected rows",
    ("too_many_joins", "data_coverage"):
        "the coverage mart reports, per mart, whether it has data: it reads every mart it reports on",
    ("too_many_joins", "int_customer_interactions_unioned"):
        "the union of every interaction source, each joined to the identity map once",
    ("too_many_joins", "lifecycle_audiences"):
        "an audience row needs stage, value, segment, consent and the playbook: each from the one "
        "model that owns it, rather than recomputed",
    ("rejoining_of_upstream_concepts", "int_customer_identifiers_flagged"):
        "int_customer_identifiers_mapped is the stored identity map, erased people left out; the "
        "ephemeral lookup adds their identifiers back only inside the SQL that needs them, so they "
        "are never stored (doc block identity_erasure)",
    ("root_model", "metricflow_time_spine"):
        "MetricFlow's calendar of days: generated, it reads nothing",
    ("rejoining_of_upstream_concepts", "int_customer_snapshots_staged"):
        "int_customer_snapshot_patterns_scored runs the chosen purchase model once per distinct "
        "(frequency, recency, tenure) of the summarised snapshots, far fewer rows than the "
        "snapshots; the staged model joins that p_alive back onto every snapshot",
    ("rejoining_of_upstream_concepts", "customer_segments"):
        "int_customers_rfm_scored is the RFM scoring rule on its own, so its dbt unit tests "
        "(quintile boundaries, ties) test the rule and nothing else",
}


def _layer(node: dict) -> str:
    parts = node["fqn"]
    return parts[1] if len(parts) > 2 else "root"


def evaluate(manifest: dict) -> list[tuple[str, str, str]]:
    """Every finding as (rule, model, detail)."""
    nodes = manifest["nodes"]
    models = {uid: n for uid, n in nodes.items() if n["resource_type"] == "model"}
    parents: dict[str, set[str]] = {uid: set(n["depends_on"]["nodes"]) for uid, n in models.items()}
    children: dict[str, set[str]] = defaultdict(set)
    for uid, deps in parents.items():
        for dep in deps:
            children[dep].add(uid)
    name = {uid: n["name"] for uid, n in models.items()}
    findings: list[tuple[str, str, str]] = []

    for uid, node in models.items():
        layer = _layer(node)
        model_parents = {p for p in parents[uid] if p in models}
        source_parents = {p for p in parents[uid] if p.startswith("source.")}
        if layer == "staging" and model_parents:
            findings.append(("staging_on_model", name[uid], ", ".join(sorted(name[p] for p in model_parents))))
        if layer != "staging" and source_parents:
            findings.append(("source_outside_staging", name[uid], ", ".join(sorted(source_parents))))
        if not parents[uid]:
            findings.append(("root_model", name[uid], "no parent"))
        if len(parents[uid]) >= TOO_MANY_JOINS_THRESHOLD:
            findings.append(("too_many_joins", name[uid], f"{len(parents[uid])} parents"))
        leaves = [c for c in children[uid] if c in models and not children[c]]
        if len(leaves) > FANOUT_THRESHOLD:
            findings.append(("model_fanout", name[uid], f"{len(leaves)} leaf children"))
        for middle in model_parents:
            if _layer(models[middle]) == "marts" or children[middle] != {uid}:
                continue
            shared = sorted(name[p] for p in parents[middle] & model_parents if name[p] not in PARAMETER_MODELS)
            if shared:
                findings.append(("rejoining_of_upstream_concepts", name[uid], f"{name[middle]} re-reads {shared}"))
        if not node.get("description"):
            findings.append(("undocumented", name[uid], "no model description"))
        for column, spec in node.get("columns", {}).items():
            if not spec.get("description"):
                findings.append(("undocumented", name[uid], f"column {column}"))

    tested: dict[str, set[str]] = defaultdict(set)
    for node in nodes.values():
        if node["resource_type"] != "test" or "test_metadata" not in node:
            continue
        test = node["test_metadata"]["name"]
        attached = node.get("attached_node")
        if attached not in models:
            continue
        if test == "unique_combination_of_columns":
            tested[attached].add("*combination*")
        elif test in ("unique", "not_null"):
            tested[attached].add(f"{test}:{node.get('column_name')}")
    for uid in models:
        columns = {c.split(":", 1)[1] for c in tested[uid] if c.startswith("unique:")}
        has_key = "*combination*" in tested[uid] or any(f"not_null:{c}" in tested[uid] for c in columns)
        if not has_key:
            findings.append(("missing_primary_key_test", name[uid], "no unique + not_null column"))
    return sorted(findings)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--manifest", type=Path, default=Path("target/manifest.json"))
    args = parser.parse_args(argv)
    findings = evaluate(json.loads(args.manifest.read_text()))
    found = {(rule, model) for rule, model, _ in findings}
    failed = False
    for rule, model, detail in findings:
        reason = ACCEPTED.get((rule, model))
        status = f"accepted: {reason}" if reason else "NOT ACCEPTED"
        failed = failed or reason is None
        print(f"{rule:32} {model:40} {detail} -- {status}")
    for rule, model in sorted(set(ACCEPTED) - found):
        print(f"{rule:32} {model:40} listed in ACCEPTED but no longer found: remove it")
        failed = True
    print(f"{len(findings)} findings, {sum(1 for r, m, _ in findings if (r, m) not in ACCEPTED)} not accepted")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
