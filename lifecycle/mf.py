"""``lifecycle mf ...``: MetricFlow's ``mf`` CLI on this project and one warehouse.

``mf`` reads ``<project>/target/semantic_manifest.json`` and checks PyPI for a newer version on
every call. Here it reads the semantic manifest of the warehouse's own dbt target
(:func:`lifecycle.paths.artefacts`, the one ``lifecycle dbt build`` writes, so two warehouses never
share one) and never goes online. Run as ``python -m lifecycle.mf`` with the environment of
:func:`lifecycle.cli.dbt_env`.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

SEMANTIC_MANIFEST = "semantic_manifest.json"


def semantic_manifest_path(env: dict[str, str] | None = None) -> Path:
    """The semantic manifest ``mf`` reads: ``$DBT_TARGET_PATH/semantic_manifest.json``."""
    target = (env if env is not None else os.environ).get("DBT_TARGET_PATH")
    if not target:
        raise RuntimeError("DBT_TARGET_PATH is not set: run mf through `lifecycle mf`")
    return Path(target) / SEMANTIC_MANIFEST


def _patch_metricflow() -> None:
    """Point mf at the warehouse's semantic manifest and switch off its update check."""
    import click
    import update_checker
    from dbt_metricflow.cli import utils
    from dbt_metricflow.cli.dbt_connectors import dbt_config_accessor
    from metricflow_semantic_interfaces.protocols.semantic_manifest import SemanticManifest
    from metricflow_semantics.model.dbt_manifest_parser import parse_manifest_from_dbt_generated_manifest

    def from_target(project_root: Path) -> SemanticManifest:
        return parse_manifest_from_dbt_generated_manifest(semantic_manifest_path().read_text())

    dbt_config_accessor.dbtArtifacts.build_semantic_manifest_from_dbt_project_root = staticmethod(  # type: ignore[method-assign]
        from_target
    )
    update_checker.UpdateChecker.check = lambda *args, **kwargs: None  # type: ignore[method-assign]

    def context(cli_configuration: object) -> None:  # on an error: the manifest this run read
        click.echo(f"Semantic manifest: {semantic_manifest_path()} (refresh: lifecycle dbt parse)")

    utils.echo_semantic_manifest_context = context


def main() -> int:
    manifest = semantic_manifest_path()
    command = next((a for a in sys.argv[1:] if not a.startswith("-")), None)
    warehouse = Path(os.environ.get("LIFECYCLE_DB", ""))
    if command == "query" and not warehouse.is_file():
        print(
            f"lifecycle mf: error: warehouse {warehouse} does not exist: build it first (lifecycle dbt build)",
            file=sys.stderr,
        )
        return 2
    if not manifest.is_file():
        print(
            f"lifecycle mf: error: no semantic manifest at {manifest}: run `lifecycle dbt parse` "
            "(or `lifecycle dbt build`) for this warehouse first",
            file=sys.stderr,
        )
        return 2
    _patch_metricflow()
    from dbt_metricflow.cli.main import cli

    try:
        cli.main(args=sys.argv[1:], prog_name="lifecycle mf", standalone_mode=True)
    except SystemExit as exc:
        return int(exc.code or 0) if not isinstance(exc.code, str) else 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
