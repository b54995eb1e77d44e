"""Helpers the end-to-end test modules share: running dbt, running independent builds side by
side, and the session's one parsed project."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from pg_server import pg_server  # noqa: F401  (the session's PostgreSQL server)

from lifecycle import paths


def run_dbt(raw_dir: Path, db: Path, *args: str, target: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``dbt *args`` on ``raw_dir`` into warehouse ``db``, with the project's profile and a
    target (default: beside the warehouse) and log folder beside the warehouse, so builds of
    different tests never collide."""
    env = dict(os.environ)
    env.update(
        DBT_PROFILES_DIR=str(paths.PROJECT_ROOT / "profiles"),
        LIFECYCLE_RAW_DIR=str(raw_dir),
        LIFECYCLE_DB=str(db),
        DBT_SEND_ANONYMOUS_USAGE_STATS="False",
        DO_NOT_TRACK="1",
        DBT_TARGET_PATH=str(target or db.parent / "target"),
        DBT_LOG_PATH=str(db.parent / "logs"),
    )
    db.parent.mkdir(parents=True, exist_ok=True)
    dbt = Path(sys.executable).with_name("dbt")
    return subprocess.run(
        [str(dbt), *args], cwd=paths.PROJECT_ROOT, env=env, capture_output=True, text=True, check=False
    )


def parallel_builds() -> int:
    """How many independent dbt builds a module runs at once (env LIFECYCLE_TEST_PARALLEL_BUILDS,
    default 2): a build of a small data set is mostly one Python thread waiting on tiny queries,
    so two side by side keep both cores busy."""
    return max(1, int(os.environ.get("LIFECYCLE_TEST_PARALLEL_BUILDS", "2")))


@contextmanager
def build_pool() -> Iterator[ThreadPoolExecutor]:
    """A pool that runs submitted builds :func:`parallel_builds` at a time; on exit it waits for
    the running ones and drops those not started."""
    pool = ThreadPoolExecutor(max_workers=parallel_builds(), thread_name_prefix="dbt-build")
    try:
        yield pool
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def selected_params(request: pytest.FixtureRequest, fixture: str) -> list[Any]:
    """The values of parametrised ``fixture`` that the selected tests of the requesting module use
    (after -k and other deselection), in first-use order: what a module's pool has to build, and no
    more. Only that module's tests: another module may parametrise a fixture of the same name."""
    found: list[Any] = []
    for item in request.session.items:
        if getattr(item, "module", None) is not request.module:
            continue
        callspec = getattr(item, "callspec", None)
        if callspec is not None and fixture in callspec.params and callspec.params[fixture] not in found:
            found.append(callspec.params[fixture])
    return found


def is_used(request: pytest.FixtureRequest, fixture: str) -> bool:
    """Whether any test of this session needs ``fixture`` (directly or through another fixture)."""
    return any(fixture in getattr(item, "fixturenames", ()) for item in request.session.items)


@dataclass(frozen=True)
class Parsed:
    """The session's ``dbt parse`` of the project. Another dbt command run with the same raw
    dir and warehouse path (dbt's partial-parse check compares the profile's connection values
    and the env vars the project reads) and a copy of its target reuses the parse."""

    raw_dir: Path
    db: Path
    target: Path

    @property
    def manifest(self) -> Path:
        return self.target / "manifest.json"

    def target_copy(self, into: Path) -> Path:
        """A target folder holding the saved parse, for one more dbt command that must not
        overwrite this one's manifest."""
        into.mkdir(parents=True, exist_ok=True)
        (into / "partial_parse.msgpack").write_bytes((self.target / "partial_parse.msgpack").read_bytes())
        return into


@pytest.fixture(scope="session")
def parsed_project(tmp_path_factory: pytest.TempPathFactory) -> Parsed:
    root = tmp_path_factory.mktemp("parsed_project")
    parsed = Parsed(root / "raw", root / "wh" / "lifecycle.duckdb", root / "wh" / "target")
    result = run_dbt(parsed.raw_dir, parsed.db, "parse", target=parsed.target)
    assert result.returncode == 0, result.stdout[-3000:]
    return parsed
