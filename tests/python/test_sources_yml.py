"""The dbt sources are generated from the landing contract and must not drift from it."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from lifecycle import paths


def _render() -> dict[str, str]:
    spec = importlib.util.spec_from_file_location(
        "write_sources_yml", paths.PROJECT_ROOT / "scripts" / "write_sources_yml.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.render()  # type: ignore[no-any-return]


def test_committed_sources_match_the_landing_contract() -> None:
    rendered = _render()
    assert rendered, "no sources rendered"
    for rel_path, text in rendered.items():
        committed = (paths.PROJECT_ROOT / rel_path).read_text()
        assert committed == text, f"{rel_path} is stale: run `make sources`"
    on_disk = {
        str(p.relative_to(paths.PROJECT_ROOT)) for p in Path(paths.PROJECT_ROOT, "models").rglob("_*__sources.yml")
    }
    assert on_disk == set(rendered)
