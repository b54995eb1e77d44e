"""dbt-project-evaluator's DAG and testing rules (scripts/evaluate_project.py) hold on the project."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from conftest import Parsed

from lifecycle import paths

SCRIPT = paths.PROJECT_ROOT / "scripts" / "evaluate_project.py"


def _run(manifest: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), "--manifest", str(manifest)], capture_output=True, text=True, check=False
    )


def test_every_finding_is_fixed_or_accepted_with_a_reason(parsed_project: Parsed) -> None:
    result = _run(parsed_project.manifest)
    assert result.returncode == 0, result.stdout


def _manifest(tmp_path: Path, nodes: dict[str, dict]) -> Path:
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps({"nodes": nodes}))
    return path


def _model(name: str, layer: str, parents: list[str]) -> dict:
    return {
        "resource_type": "model", "name": name, "fqn": ["p", layer, name],
        "depends_on": {"nodes": parents}, "description": "d", "columns": {},
    }


def test_the_rules_catch_what_they_name(tmp_path: Path) -> None:
    a, b, c = "model.p.int_a", "model.p.int_b", "model.p.int_c"
    nodes = {
        a: _model("int_a", "intermediate", ["source.p.raw.t"]),
        b: _model("int_b", "intermediate", [a]),
        c: _model("int_c", "intermediate", [a, b]),
    }
    result = _run(_manifest(tmp_path, nodes))
    assert result.returncode == 1
    assert "source_outside_staging" in result.stdout and "int_a" in result.stdout
    assert "rejoining_of_upstream_concepts" in result.stdout and "int_b re-reads ['int_a']" in result.stdout
    assert "missing_primary_key_test" in result.stdout
