"""The closed value lists live in seeds, once: Python reads them, the SQL and the playbook agree.

- ``lifecycle.schema`` takes the quarantine reasons and acquisition channels from the seeds;
- the ``lifecycle_stage`` macro assigns the stages in the precedence of ``seeds/lifecycle_stages.csv``
  and the lifecycle playbook has a cell for every stage x CLV tier of the seeds, and no other;
- no model yml writes a seed's list again as an ``accepted_values`` list;
- ``lifecycle validate`` turns a ``relationships`` test to a seed into the in-set expectation an
  ``accepted_values`` test makes, with the seed's values (and keeps ``where``).
"""

from __future__ import annotations

import csv
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from lifecycle import paths, reference, schema
from lifecycle.assertions import unbatch
from lifecycle.checks import mart_checks

ROOT = paths.PROJECT_ROOT


def _csv_column(name: str, column: str) -> list[str]:
    with open(ROOT / "seeds" / f"{name}.csv", newline="", encoding="utf-8") as handle:
        return [row[column] for row in csv.DictReader(handle)]


def test_schema_lists_come_from_the_seeds() -> None:
    assert tuple(_csv_column("quarantine_reasons", "quarantine_reason")) == schema.QUARANTINE_REASONS
    assert len(schema.QUARANTINE_REASONS) == len(set(schema.QUARANTINE_REASONS)) == 15
    channels = _csv_column("acquisition_channels", "acquisition_channel")
    assert "unknown" in channels
    assert tuple(c for c in channels if c != "unknown") == schema.ACQUISITION_CHANNELS
    assert not any("QUARANTINE_REASONS = (" in line for line in (ROOT / "lifecycle" / "schema.py").open())


def test_seed_loader(tmp_path: Path) -> None:
    (tmp_path / "seeds").mkdir()
    (tmp_path / "seeds" / "colours.csv").write_text('colour,note\nred,"warm, bright"\nblue,\nred,again\n')
    assert reference.is_seed("colours", tmp_path) and not reference.is_seed("sizes", tmp_path)
    assert reference.seed_values("colours", "colour", tmp_path) == ("red", "blue")
    assert reference.seed_values("colours", "note", tmp_path) == ("warm, bright", "again")
    assert reference.seed_rows("colours", tmp_path)[0] == {"colour": "red", "note": "warm, bright"}
    with pytest.raises(KeyError, match="no column 'size'"):
        reference.seed_values("colours", "size", tmp_path)
    with pytest.raises(FileNotFoundError):
        reference.seed_rows("sizes", tmp_path)


def _stage_macro_order() -> list[str]:
    """The stages of the ``lifecycle_stage`` macro, in the order its case tests them."""
    text = (ROOT / "macros" / "lifecycle_rules.sql").read_text()
    body = re.search(r"{%\s*macro lifecycle_stage\(.*?%}(.*?){%-?\s*endmacro", text, re.S)
    assert body, "macro lifecycle_stage not found in macros/lifecycle_rules.sql"
    return re.findall(r"(?:then|else)\s+'(\w+)'", body.group(1))


def test_stage_precedence_of_the_sql_is_the_seed() -> None:
    rows = reference.seed_rows("lifecycle_stages")
    by_precedence = [r["lifecycle_stage"] for r in sorted(rows, key=lambda r: int(r["precedence"]))]
    assert sorted(int(r["precedence"]) for r in rows) == list(range(1, len(rows) + 1))
    assert _stage_macro_order() == by_precedence
    assert all(r["stage_description"].strip() for r in rows)


def test_playbook_has_one_cell_per_stage_and_tier_of_the_seeds() -> None:
    stages = set(reference.seed_values("lifecycle_stages", "lifecycle_stage"))
    tiers = set(reference.seed_values("clv_tiers", "clv_tier"))
    cells = [(r["lifecycle_stage"], r["clv_tier"]) for r in reference.seed_rows("lifecycle_playbook")]
    assert len(cells) == len(set(cells))
    assert set(cells) == {(s, t) for s in stages for t in tiers}


def _list_seeds() -> dict[str, frozenset[str]]:
    """Every seed that is a value list (a code column and its description or rank): name -> codes."""
    out = {}
    for name, column in [
        ("lifecycle_stages", "lifecycle_stage"), ("clv_tiers", "clv_tier"),
        ("quarantine_reasons", "quarantine_reason"), ("acquisition_channels", "acquisition_channel"),
        ("channel_mixes", "channel_mix"), ("preferred_channels", "preferred_channel"),
        ("rfm_segment_definitions", "rfm_segment"),
    ]:
        out[name] = frozenset(reference.seed_values(name, column))
    return out


def _accepted_values_lists() -> list[tuple[str, str, frozenset[Any]]]:
    found = []
    for yml in [*(ROOT / "models").rglob("*.yml"), *(ROOT / "seeds").rglob("*.yml")]:
        doc = yaml.safe_load(yml.read_text()) or {}
        for node in [*(doc.get("models") or []), *(doc.get("seeds") or [])]:
            entries = [(None, t) for t in node.get("data_tests") or []]
            for col in node.get("columns") or []:
                entries += [(col["name"], t) for t in col.get("data_tests") or []]
            for column, test in entries:
                if not isinstance(test, dict):
                    continue
                name, body = next(iter(test.items()))
                # A batched columns_accepted_values test holds one list per column.
                for kind, col, args in unbatch(name, column, (body or {}).get("arguments") or {}):
                    if kind == "accepted_values":
                        # dbt quotes each value: a '' in the yml is one ' in the data.
                        values = args.get("values") or []
                        unquoted = {v.replace("''", "'") if isinstance(v, str) else v for v in values}
                        found.append((node["name"], str(col), frozenset(unquoted)))
    return found


def test_no_yml_writes_a_seed_list_again() -> None:
    seeds = _list_seeds()
    lists = _accepted_values_lists()
    assert lists, "no accepted_values test found at all: the scan is broken"
    for model, column, values in lists:
        for seed, seed_values in seeds.items():
            # The seed's list, alone or with the code of "no value" (none, Prospect).
            assert values not in (seed_values, seed_values | {"none"}, seed_values | {"Prospect"}), (
                f"{model}.{column} lists the values of seeds/{seed}.csv: use a relationships test to it"
            )


def test_relationships_to_a_seed_become_an_in_set_expectation(tmp_path: Path) -> None:
    def relationships(to: str, field: str, **config: str) -> dict[str, Any]:
        test: dict[str, Any] = {"arguments": {"to": to, "field": field}}
        if config:
            test["config"] = config
        return {"relationships": test}

    orders = {
        "name": "orders",
        "columns": [
            {"name": "status", "data_tests": [
                relationships("ref('statuses')", "status", where="status <> 'none'", severity="warn"),
            ]},
            {"name": "customer_id", "data_tests": [relationships("ref('customers')", "customer_id")]},
        ],
    }
    (tmp_path / "seeds").mkdir()
    (tmp_path / "seeds" / "statuses.csv").write_text("status,meaning\npaid,paid\nrefund,money back\n")
    (tmp_path / "models" / "marts").mkdir(parents=True)
    (tmp_path / "models" / "marts" / "_orders__models.yml").write_text(
        yaml.safe_dump({"version": 2, "models": [orders]})
    )
    (tmp_path / "dbt_project.yml").write_text("name: shop\n")
    checks = {c.column: c for c in mart_checks(tmp_path)["orders"].checks}
    status = checks["status"]
    assert (status.test, status.severity, status.expectation) == (
        "relationships", "warn", "expect_column_values_to_be_in_set"
    )
    assert status.kwargs["value_set"] == ["paid", "refund"]
    assert status.kwargs["column"] == "status"
    assert status.kwargs["row_condition"].endswith("_where == True")
    assert list(status.derived.values()) == ["coalesce((status <> 'none'), false)"]
    # A relationships test to a model (not a seed) stays a query of the warehouse.
    customer = checks["customer_id"]
    assert customer.kwargs["value_set"] == [True]
    assert "select customer_id from ref('customers')" in next(iter(customer.derived.values()))


def test_marts_value_lists_are_checked_against_the_seeds() -> None:
    """The marts' stage and tier columns get their value set from the seeds in the suites."""
    by_key = {(c.mart, c.test, c.column): c for mc in mart_checks().values() for c in mc.checks}
    stages = list(reference.seed_values("lifecycle_stages", "lifecycle_stage"))
    tiers = list(reference.seed_values("clv_tiers", "clv_tier"))
    reasons = list(schema.QUARANTINE_REASONS)
    assert by_key[("customer_lifecycle", "relationships", "lifecycle_stage")].kwargs["value_set"] == stages
    assert by_key[("customer_clv", "relationships", "clv_tier")].kwargs["value_set"] == tiers
    assert by_key[("quarantined_rows", "relationships", "quarantine_reason")].kwargs["value_set"] == reasons
    for check in by_key.values():
        assert check.severity in ("error", "warn")
