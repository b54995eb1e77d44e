"""dbt exposures declare what reads the marts outside dbt (models/marts/_marts__exposures.yml):
the serving targets must depend on every mart that is published, the others only on marts."""

from __future__ import annotations

import json

from conftest import Parsed

SERVING_EXPOSURES = ("serving_duckdb", "serving_postgresql")


def _manifest(parsed: Parsed) -> dict:  # type: ignore[type-arg]
    return json.loads(parsed.manifest.read_text())


def test_serving_exposures_depend_on_every_mart(parsed_project: Parsed) -> None:
    manifest = _manifest(parsed_project)
    marts = {
        uid
        for uid, node in manifest["nodes"].items()
        if node["resource_type"] == "model"
        and node["schema"].endswith("marts")
        and node["config"]["materialized"] == "table"
    }
    assert len(marts) >= 17
    exposures = {e["name"]: e for e in manifest["exposures"].values()}
    for name in SERVING_EXPOSURES:
        assert set(exposures[name]["depends_on"]["nodes"]) == marts, name


def test_every_exposure_reads_marts_only_and_has_an_owner(parsed_project: Parsed) -> None:
    manifest = _manifest(parsed_project)
    exposures = list(manifest["exposures"].values())
    assert {e["name"] for e in exposures} >= {*SERVING_EXPOSURES, "lifecycle_dashboard", "audience_export"}
    for exposure in exposures:
        nodes = exposure["depends_on"]["nodes"]
        assert nodes, exposure["name"]
        for uid in nodes:
            assert manifest["nodes"][uid]["schema"].endswith("marts"), (exposure["name"], uid)
        assert exposure["owner"]["name"] and exposure["description"].strip(), exposure["name"]
