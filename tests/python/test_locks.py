"""Who holds a DuckDB file (``lifecycle.locks.duckdb_holder``) and the per-warehouse build lock,
without dbt: a read-write and a read-only client in another process are told apart and named by
pid; a second build lock on one warehouse is refused naming the first, another warehouse's is not."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from lifecycle.locks import LockHeldError, build_lock, build_lock_path, duckdb_holder

_CLIENT = """
import sys, duckdb
con = duckdb.connect(sys.argv[1], read_only=sys.argv[2] == "ro")
print("open", flush=True)
sys.stdin.readline()
"""


def _client(path: Path, mode: str) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", _CLIENT, str(path), mode], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "open"
    return proc


def _db(tmp_path: Path) -> Path:
    path = tmp_path / "w.duckdb"
    duckdb.connect(str(path)).close()
    return path


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="process names come from /proc")
def test_duckdb_holder_tells_writers_from_readers(tmp_path: Path) -> None:
    db = _db(tmp_path)
    assert duckdb_holder(db, writers_only=False) is None
    assert duckdb_holder(tmp_path / "missing.duckdb", writers_only=False) is None
    writer = _client(db, "rw")
    try:
        holder = duckdb_holder(db, writers_only=True)
        assert holder is not None and holder.pid == writer.pid and holder.writes
        assert f"pid {writer.pid}: python" in holder.describe() and "(read-write)" in holder.describe()
    finally:
        writer.kill()
        writer.wait()
    reader = _client(db, "ro")
    try:
        assert duckdb_holder(db, writers_only=True) is None  # a reader does not block a publish
        holder = duckdb_holder(db, writers_only=False)  # but it does block a build
        assert holder is not None and holder.pid == reader.pid and not holder.writes
    finally:
        reader.kill()
        reader.wait()


def test_build_lock_is_one_per_warehouse(tmp_path: Path) -> None:
    one, two = tmp_path / "a" / "w.duckdb", tmp_path / "b" / "w.duckdb"
    with build_lock(one, "lifecycle dbt build"), build_lock(two, "lifecycle dbt build"):
        assert "lifecycle dbt build" in build_lock_path(one).read_text()
        with (
            pytest.raises(LockHeldError, match=r"another build of .*a/w\.duckdb is running") as err,
            build_lock(one, "lifecycle dbt run"),
        ):
            pass
        assert "lifecycle dbt build, since" in str(err.value) and "\n" not in str(err.value)
    with build_lock(one, "lifecycle dbt run"):  # released
        pass


def test_build_lock_refuses_while_another_process_has_the_warehouse_open(tmp_path: Path) -> None:
    db = _db(tmp_path)
    reader = _client(db, "ro")
    try:
        with pytest.raises(LockHeldError, match=f"is open in pid {reader.pid}"), build_lock(db, "lifecycle dbt build"):
            pass
    finally:
        reader.kill()
        reader.wait()
    with build_lock(db, "lifecycle dbt build"):
        pass
