"""The assertions the project's data tests make, one per (model, column, kind, arguments, severity,
where), whether a test checks one column or several at once.

The batched generic tests (tests/generic/columns_*.sql, expressions_are_true.sql) check several
columns (or expressions) of one model in one query; each stands for the one-column tests it
replaces (``not_null``, ``accepted_range``, ``accepted_values``, ``expression_is_true``).
:func:`unbatch` is that correspondence, used by :mod:`lifecycle.checks` (the marts' Great
Expectations suites) and by :func:`manifest_assertions` (what a build asserts, from dbt's
manifest: the same set whether the tests are batched or not).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

# Batched test -> the one-column (or one-expression) test each of its entries stands for.
BATCHED = {
    "columns_not_null": "not_null",
    "columns_in_range": "accepted_range",
    "columns_accepted_values": "accepted_values",
    "expressions_are_true": "expression_is_true",
}


@dataclass(frozen=True)
class Assertion:
    model: str
    column: str | None
    kind: str
    arguments: str  # JSON, keys sorted
    severity: str
    where: str | None


def unbatch(name: str, column: str | None, args: dict[str, Any]) -> list[tuple[str, str | None, dict[str, Any]]]:
    """The (test, column, arguments) entries a data test stands for: itself unless it is batched."""
    if name == "columns_not_null":
        return [("not_null", str(c), {}) for c in args.get("columns") or []]
    if name in ("columns_in_range", "columns_accepted_values"):
        return [(BATCHED[name], str(c), dict(spec or {})) for c, spec in (args.get("columns") or {}).items()]
    if name == "expressions_are_true":
        return [("expression_is_true", None, {"expression": e}) for e in args.get("expressions") or []]
    return [(name, column, args)]


def manifest_assertions(manifest: dict[str, Any]) -> list[Assertion]:
    """Every assertion of the data tests of a dbt manifest (singular tests by their name)."""
    out: list[Assertion] = []
    for node in manifest["nodes"].values():
        if node["resource_type"] != "test":
            continue
        config = node.get("config") or {}
        severity = str(config.get("severity") or "error").lower()
        where = config.get("where")
        meta = node.get("test_metadata")
        if meta is None:
            out.append(Assertion(node["name"], None, "singular", "{}", severity, where))
            continue
        model = (node.get("attached_node") or "").split(".")[-1]
        kwargs = {k: v for k, v in (meta.get("kwargs") or {}).items() if k not in ("model", "column_name")}
        for kind, column, args in unbatch(meta["name"], node.get("column_name"), kwargs):
            out.append(Assertion(model, column, kind, json.dumps(args, sort_keys=True), severity, where))
    return sorted(out, key=lambda a: (a.model, a.column or "", a.kind, a.arguments, a.severity, a.where or ""))
