"""The DuckDB serving file never leaks or goes stale (issue 12, first part).

On the session's small validated build (``test_publish.shared_build``): a read-write client's
leftover WAL never reaches readers of the next published file, and a publish is refused while such
a client holds the file; the published file is read-only on disk and sealed (``<stem>.publish.json``)
and a rollback copy changed since its publish is never put back; the serving copy carries the
warehouse's descriptions and constraints; a real SQLAlchemy + duckdb-engine client sees the new
build at its next query with the README's settings (and the default pool shows the old one);
two ``lifecycle dbt build`` on one warehouse: one runs, the other refuses in one line, and a reader
holding the warehouse makes a build refuse in one line.
"""

from __future__ import annotations

import os
import shutil
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest
import sqlalchemy as sa
from sqlalchemy.pool import NullPool
from test_publish import Build, shared_build

from lifecycle import paths
from lifecycle.cli import main
from lifecycle.locks import build_lock_path
from lifecycle.publish import PublishError, previous_path, publish, rollback
from lifecycle.publish.catalog import Table, read_tables
from lifecycle.publish.files import seal_path, sha256_file, wal_path
from lifecycle.publish.seal import read_seal

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def build(tmp_path_factory: pytest.TempPathFactory) -> Build:
    return shared_build(tmp_path_factory)


@pytest.fixture()
def serving(tmp_path: Path) -> Path:
    return tmp_path / "serve" / "serving.duckdb"


def _publish(build: Build, serving: Path) -> str:
    return publish(build.db, serving, skip_validate=True, dbt_results=build.run_results).build_id


def _snapshot(path: Path) -> tuple[str, int, float | None]:
    """(build id, customers, max predicted_clv) as a new read-only reader sees the file."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        build_id = con.execute("select distinct build_id from meta.publish_manifest").fetchall()
        customers = con.execute("select count(*) from marts.customers").fetchone()
        clv = con.execute("select max(predicted_clv) from marts.customer_clv").fetchone()
    finally:
        con.close()
    assert len(build_id) == 1 and customers is not None and clv is not None
    return str(build_id[0][0]), int(customers[0]), clv[0]


def _warehouse_view(build: Build) -> tuple[int, float | None]:
    con = duckdb.connect(str(build.db), read_only=True)
    try:
        customers = con.execute("select count(*) from marts.customers").fetchone()
        clv = con.execute("select max(predicted_clv) from marts.customer_clv").fetchone()
    finally:
        con.close()
    assert customers is not None and clv is not None
    return int(customers[0]), clv[0]


# A BI user's read-write client: it makes the file writable if it has to (the owner can), edits
# it and is killed before any checkpoint, leaving its WAL beside the file.
_WRITER = """
import os, sys, time, duckdb
path = sys.argv[1]
os.chmod(path, 0o644)
con = duckdb.connect(path)
con.execute("set checkpoint_threshold = '10GB'")
con.execute("delete from marts.customers where customer_id in "
            "(select customer_id from marts.customers order by customer_id limit 10)")
con.execute("update marts.customer_clv set predicted_clv = 999999")
print("edited", flush=True)
time.sleep(600)
"""


def _start_writer(path: Path) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", _WRITER, str(path)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line.strip() == "edited", line + (proc.stderr.read() if proc.stderr else "")
    return proc


def _kill(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGKILL)
    proc.wait()


# ---------------------------------------------------------------------------------------------
# 1. What is published is exactly what was validated


def test_a_read_write_clients_wal_never_reaches_the_next_build(
    build: Build, serving: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first = _publish(build, serving)
    assert stat.S_IMODE(serving.stat().st_mode) == 0o444  # read-only on disk
    assert read_seal(serving).sha256 == sha256_file(serving)
    writer = _start_writer(serving)
    try:
        # While the client holds the file read-write, a publish is refused in one line naming it.
        code = main(
            [
                "publish",
                "--db",
                str(build.db),
                "--serving",
                str(serving),
                "--dbt-results",
                str(build.run_results),
                "--skip-validate",
            ]
        )
        err = capsys.readouterr().err
        assert code == 1
        assert len(err.strip().splitlines()) == 1, err
        assert "open read-write" in err and f"pid {writer.pid}" in err
        assert read_seal(serving).build_id == first  # (no reader can open it while the client holds it)
    finally:
        _kill(writer)  # no checkpoint: its edits stay in the WAL
    assert wal_path(serving).stat().st_size > 0
    # The check readers can run says the file is not as published (the WAL would be replayed).
    assert main(["publish", "--serving", str(serving), "--check"]) == 1
    assert "would be replayed" in capsys.readouterr().err

    result = publish(build.db, serving, skip_validate=True, dbt_results=build.run_results)
    assert any("serving.duckdb.wal" in w and "never validated" in w for w in result.warnings)
    assert not wal_path(serving).exists() and not wal_path(previous_path(serving)).exists()
    customers, clv = _warehouse_view(build)
    assert clv != 999999
    # Readers see exactly the validated build: not 10 customers fewer, no predicted_clv = 999999.
    assert _snapshot(serving) == (result.build_id, customers, clv)
    assert stat.S_IMODE(serving.stat().st_mode) == 0o444
    seal = read_seal(serving)
    assert (seal.build_id, seal.sha256, seal.size) == (result.build_id, sha256_file(serving), serving.stat().st_size)
    assert main(["publish", "--serving", str(serving), "--check"]) == 0
    assert result.build_id in capsys.readouterr().out
    # The previous copy never took the client's edits either, and its seal moved with it.
    assert read_seal(previous_path(serving)).build_id == first
    assert _snapshot(previous_path(serving)) == (first, customers, clv)


def test_a_rollback_copy_changed_since_its_publish_is_not_put_back(build: Build, serving: Path) -> None:
    first = _publish(build, serving)
    second = _publish(build, serving)
    rollback(serving)  # sealed copies roll back and forward
    assert _snapshot(serving)[0] == first and read_seal(serving).build_id == first
    rollback(serving)
    assert _snapshot(serving)[0] == second and read_seal(previous_path(serving)).build_id == first

    previous = previous_path(serving)
    os.chmod(previous, 0o644)
    con = duckdb.connect(str(previous))
    con.execute("update marts.customer_clv set predicted_clv = 999999")
    con.close()  # checkpointed into the file itself
    with pytest.raises(PublishError, match="modified after it was published"):
        rollback(serving)
    assert _snapshot(serving)[0] == second  # untouched
    seal_path(previous).unlink()
    with pytest.raises(PublishError, match="has no seal"):
        rollback(serving)


# ---------------------------------------------------------------------------------------------
# 2. Descriptions and constraints carry over


def test_serving_copy_keeps_descriptions_and_constraints(build: Build, serving: Path) -> None:
    _publish(build, serving)
    con = duckdb.connect(str(build.db), read_only=True)
    try:
        expected = read_tables(con, "marts")
    finally:
        con.close()
    assert all(t.comment for t in expected) and all(t.primary_key for t in expected)
    assert sum(1 for t in expected for c in t.columns if c.comment) > 100
    assert sum(1 for t in expected for c in t.columns if c.not_null) > 10
    con = duckdb.connect(str(serving), read_only=True)
    try:
        assert read_tables(con, "marts") == expected
    finally:
        con.close()


# ---------------------------------------------------------------------------------------------
# 3. BI clients: SQLAlchemy + duckdb-engine


def _build_seen(engine: sa.Engine) -> str:
    with engine.connect() as conn:
        return str(conn.execute(sa.text("select distinct build_id from meta.publish_manifest")).scalar_one())


def _url(serving: Path) -> str:
    return f"duckdb:///{serving}"


def test_sqlalchemy_default_pool_keeps_the_old_build(build: Build, serving: Path) -> None:
    """Documented in the README: a pooled connection keeps the file it opened (the old inode)."""
    old = _publish(build, serving)
    engine = sa.create_engine(_url(serving), connect_args={"read_only": True})
    try:
        assert _build_seen(engine) == old
        new = _publish(build, serving)
        assert _build_seen(engine) == old  # the pooled connection: still the old build
    finally:
        engine.dispose()
    assert _snapshot(serving)[0] == new


@pytest.mark.parametrize("settings", ["nullpool", "recycle"])
def test_sqlalchemy_with_the_readme_settings_sees_the_new_build(build: Build, serving: Path, settings: str) -> None:
    old = _publish(build, serving)
    expected = {t.name: t for t in _tables_of(build.db)}
    if settings == "nullpool":
        engine = sa.create_engine(_url(serving), poolclass=NullPool, connect_args={"read_only": True})
    else:
        engine = sa.create_engine(_url(serving), pool_pre_ping=True, pool_recycle=1, connect_args={"read_only": True})
    try:
        assert _build_seen(engine) == old
        columns = sa.inspect(engine).get_columns("customers", schema="marts")
        assert [c["name"] for c in columns] == list(expected["customers"].column_names)
        assert sorted(sa.inspect(engine).get_table_names(schema="marts")) == sorted(expected)
        new = _publish(build, serving)
        if settings == "recycle":
            time.sleep(1.5)  # older than pool_recycle: the next checkout reconnects
        assert _build_seen(engine) == new
    finally:
        engine.dispose()


def _tables_of(path: Path) -> list[Table]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return read_tables(con, "marts")
    finally:
        con.close()


# ---------------------------------------------------------------------------------------------
# 4. The build lock


def _lifecycle_dbt(raw: Path, db: Path, *args: str) -> tuple[list[str], dict[str, str]]:
    env = dict(os.environ, LIFECYCLE_RAW_DIR=str(raw), LIFECYCLE_DB=str(db), DBT_SEND_ANONYMOUS_USAGE_STATS="False")
    for var in ("DBT_TARGET_PATH", "DBT_LOG_PATH", "DBT_PROFILES_DIR"):
        env.pop(var, None)
    return [str(Path(sys.executable).with_name("lifecycle")), "dbt", *args], env


def test_a_reader_holding_the_warehouse_makes_a_build_refuse_in_one_line(build: Build) -> None:
    reader = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, duckdb; con = duckdb.connect(sys.argv[1], read_only=True); print('open', flush=True); "
            "sys.stdin.readline()",
            str(build.db),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert reader.stdout is not None and reader.stdout.readline().strip() == "open"
        cmd, env = _lifecycle_dbt(build.raw, build.db, "build", "--select", "customers")
        result = subprocess.run(cmd, cwd=paths.PROJECT_ROOT, env=env, capture_output=True, text=True, check=False)
    finally:
        reader.kill()
        reader.wait()
    assert result.returncode == 2, result.stdout[-3000:] + result.stderr[-3000:]
    assert result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert f"pid {reader.pid}" in result.stderr and "read-only" in result.stderr


def test_two_builds_of_one_warehouse_one_runs_the_other_refuses(build: Build, tmp_path: Path) -> None:
    db = tmp_path / build.db.name  # same file name: the warehouse's views name it
    shutil.copy(build.db, db)
    cmd, env = _lifecycle_dbt(build.raw, db, "build", "--select", "customers")
    first = subprocess.Popen(
        cmd, cwd=paths.PROJECT_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        assert first.stdout is not None
        line = first.stdout.readline()  # dbt's first line: the lock is held by then
        assert line, first.stdout.read()
        assert f"pid {first.pid}" in build_lock_path(db).read_text()
        second = subprocess.run(cmd, cwd=paths.PROJECT_ROOT, env=env, capture_output=True, text=True, check=False)
        assert first.poll() is None, "the first build ended before the second started: nothing was tested"
        rest = first.stdout.read()
    finally:
        if first.poll() is None:
            first.wait(timeout=600)
    assert second.returncode == 2, second.stdout[-3000:] + second.stderr[-3000:]
    assert len(second.stderr.strip().splitlines()) == 1, second.stderr
    assert "another build" in second.stderr and f"pid {first.pid}" in second.stderr
    assert first.returncode == 0, rest[-4000:]
    con = duckdb.connect(str(db), read_only=True)
    try:
        n = con.execute("select count(*) from marts.customers").fetchone()
    finally:
        con.close()
    assert n is not None and n[0] == _warehouse_view(build)[0]
