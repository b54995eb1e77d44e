"""The batched data tests (tests/generic/columns_*.sql, expressions_are_true.sql), on the parsed
project's manifest: each assertion is declared once, names columns its model has, is batched with
the others of its kind, severity and `where`, and reaches its model through the project's
get_where_subquery (the latest batch of an incremental model). That a failing batched test names
its column is shown on a built warehouse in test_publish.py."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from typing import Any

import pytest
from conftest import Parsed

from lifecycle.assertions import BATCHED, manifest_assertions

# One-column tests the batched tests replace: on a primary key (a column with a `unique` test)
# not_null stays beside unique, as dbt-project-evaluator's primary-key rule expects.
REPLACED = {"not_null", "accepted_range", "accepted_values"}


@pytest.fixture(scope="module")
def manifest(parsed_project: Parsed) -> dict[str, Any]:
    return json.loads(parsed_project.manifest.read_text())


def _generic_tests(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    return [n for n in manifest["nodes"].values() if n["resource_type"] == "test" and "test_metadata" in n]


def test_every_assertion_is_declared_once(manifest: dict[str, Any]) -> None:
    assertions = manifest_assertions(manifest)
    assert len(assertions) > 1000, "the extraction found too few assertions: it is broken"
    twice = [a for a, n in Counter(assertions).items() if n > 1]
    assert twice == []


def test_batched_tests_name_columns_of_their_model(manifest: dict[str, Any]) -> None:
    nodes = {**manifest["nodes"], **manifest.get("sources", {})}
    batched = [n for n in _generic_tests(manifest) if n["test_metadata"]["name"] in BATCHED]
    assert batched, "no batched test found"
    for test in batched:
        model = nodes[test["attached_node"]]
        documented = {c.lower() for c in model["columns"]}
        kwargs = test["test_metadata"]["kwargs"]
        named = kwargs.get("columns") or []
        missing = [c for c in named if str(c).lower() not in documented]
        assert missing == [], f"{test['name']}: {model['name']} has no column {missing}"
        if test["test_metadata"]["name"] == "expressions_are_true":
            assert kwargs["expressions"], test["name"]
        else:
            assert named, test["name"]


def test_one_batched_test_per_model_kind_severity_and_where(manifest: dict[str, Any]) -> None:
    seen: Counter[tuple[str, str, str, str | None]] = Counter()
    for test in _generic_tests(manifest):
        name = test["test_metadata"]["name"]
        if name in BATCHED:
            seen[(test["attached_node"], name, test["config"]["severity"].lower(), test["config"].get("where"))] += 1
    assert [key for key, n in seen.items() if n > 1] == []


def test_column_tests_are_batched_except_on_primary_keys(manifest: dict[str, Any]) -> None:
    by_column: dict[tuple[str, str], set[str]] = defaultdict(set)
    for test in _generic_tests(manifest):
        if test.get("column_name"):
            by_column[(test["attached_node"], test["column_name"])].add(test["test_metadata"]["name"])
    for test in _generic_tests(manifest):
        name, column = test["test_metadata"]["name"], test.get("column_name")
        if name in REPLACED and column:
            is_key = name == "not_null" and "unique" in by_column[(test["attached_node"], column)]
            batched = next(b for b, one in BATCHED.items() if one == name)
            assert is_key, f"{test['name']}: batch it into {batched} of its model"
        if name == "expression_is_true":
            # Only a named one (its own line in the build log on purpose, e.g. the CLV not-fitted
            # warning) stands alone; dbt's generated names start with the test's name.
            generated = test["name"].startswith("expression_is_true_")
            assert not generated, f"{test['name']}: batch it into expressions_are_true"


def test_batched_tests_read_their_model_through_get_where_subquery(manifest: dict[str, Any]) -> None:
    # dbt passes a generic test's `model` as get_where_subquery(ref(...)): the project's override
    # (macros/staging_incremental.sql) applies `where` and the latest-batch cut to batched tests too.
    for test in _generic_tests(manifest):
        if test["test_metadata"]["name"] in BATCHED:
            assert test["test_metadata"]["kwargs"]["model"].startswith("{{ get_where_subquery("), test["name"]
