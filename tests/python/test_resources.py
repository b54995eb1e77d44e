"""DuckDB resources of `lifecycle dbt`: from the machine unless the user set them."""

from __future__ import annotations

from pathlib import Path

import pytest

from lifecycle import cli, resources


def test_the_memory_limit_is_a_share_of_physical_memory() -> None:
    gib = 2**30
    # The README's table: a fifth of physical memory (4.8 GB on this 24 GB machine, 1.6 GB on 8 GB).
    assert resources.memory_limit(24 * gib) == "4915MiB"
    assert resources.memory_limit(16 * gib) == "3276MiB"
    assert resources.memory_limit(8 * gib) == "1638MiB"


def test_a_small_machine_still_gets_the_minimum_and_an_unknown_one_none() -> None:
    assert resources.memory_limit(4 * 2**30) == f"{resources.MIN_MEMORY_MIB}MiB"
    assert resources.memory_limit(None) is None


def test_machine_values_fill_only_what_the_user_did_not_set(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    filled = resources.resource_env({}, db)
    assert int(filled["LIFECYCLE_THREADS"]) >= 1
    assert filled["LIFECYCLE_MEMORY_LIMIT"].endswith("MiB")
    assert filled["LIFECYCLE_TEMP_DIR"] == str(tmp_path / "w.duckdb.tmp")
    mine = {"LIFECYCLE_THREADS": "1", "LIFECYCLE_MEMORY_LIMIT": "1GB", "LIFECYCLE_TEMP_DIR": "/spill"}
    assert resources.resource_env(mine, db) == mine


def test_lifecycle_dbt_passes_them_to_dbt(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LIFECYCLE_DB", str(tmp_path / "w.duckdb"))
    monkeypatch.setenv("LIFECYCLE_MEMORY_LIMIT", "2GB")
    monkeypatch.delenv("LIFECYCLE_TEMP_DIR", raising=False)
    env = cli.dbt_env(["build"])
    assert env["LIFECYCLE_MEMORY_LIMIT"] == "2GB"
    assert env["LIFECYCLE_TEMP_DIR"] == str(tmp_path / "w.duckdb.tmp")
    assert "LIFECYCLE_THREADS" in env


def test_the_profile_reads_every_resource_variable() -> None:
    profile = (Path(__file__).resolve().parents[2] / "profiles" / "profiles.yml").read_text()
    for name in ("LIFECYCLE_THREADS", "LIFECYCLE_MEMORY_LIMIT", "LIFECYCLE_TEMP_DIR"):
        assert f"env_var('{name}'" in profile
