"""Write-audit-publish: ``lifecycle publish`` and ``publish --rollback``.

A small warehouse is built once per session from a generated data set (the same helper serves
``test_validate.py``); every test publishes into its own temporary serving file. Covered: a
publish copies every mart and writes a correct manifest; a failing audit (dbt results or Great
Expectations) leaves the serving file byte-identical; a publish killed midway leaves the previous
serving file intact and openable; an open reader neither blocks a publish nor sees a mix;
rollback; an erased customer disappears from every serving table at the next build + publish;
two builds of the same raw data give the same marts. Provenance: each warehouse keeps its own
run results and validation report and publishes from them; a partial dbt run after validation,
run results from another warehouse, or a warehouse without a build record are refused.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lifecycle import paths
from lifecycle.build_record import RECORD_SCHEMA, RECORD_TABLE, BuildRecord, read_build_record
from lifecycle.cli import main
from lifecycle.generate import generate
from lifecycle.publish import (
    MANIFEST_SCHEMA,
    MANIFEST_TABLE,
    PAUSE_BEFORE_RENAME,
    PAUSE_DURING_COPY,
    PublishError,
    audit_dbt_results,
    previous_path,
    publish,
    read_manifest,
    rollback,
)
from lifecycle.validate import validate_warehouse

pytestmark = pytest.mark.slow

N_CUSTOMERS = 1500
SEED = 3


# ---------------------------------------------------------------------------------------------
# The shared small build


@dataclass(frozen=True)
class Build:
    raw: Path
    db: Path
    run_results: Path


def _dbt_command(raw: Path, db: Path, *extra: str, command: str = "build") -> tuple[list[str], dict[str, str]]:
    """``lifecycle dbt <command>``: dbt with the warehouse's own target/ and logs/ (paths.artefacts)."""
    env = dict(os.environ)
    env.update(
        LIFECYCLE_RAW_DIR=str(raw),
        LIFECYCLE_DB=str(db),
        DBT_SEND_ANONYMOUS_USAGE_STATS="False",
        DO_NOT_TRACK="1",
    )
    for var in ("DBT_TARGET_PATH", "DBT_LOG_PATH", "DBT_PROFILES_DIR"):
        env.pop(var, None)  # the CLI sets them
    return [str(Path(sys.executable).with_name("lifecycle")), "dbt", command, *extra], env


def _run_results(db: Path) -> Path:
    return paths.artefacts(db).run_results


def _run_dbt(raw: Path, db: Path, *extra: str, command: str = "build", expect_code: int = 0) -> None:
    cmd, env = _dbt_command(raw, db, *extra, command=command)
    result = subprocess.run(cmd, cwd=paths.PROJECT_ROOT, env=env, capture_output=True, text=True, check=False)
    assert result.returncode == expect_code, result.stdout[-6000:] + result.stderr[-3000:]


def _validate(db: Path) -> None:
    """``lifecycle validate`` into the warehouse's own reports directory; it must pass."""
    report = validate_warehouse(db, paths.artefacts(db).reports)
    assert report.success, "\n".join(report.summary_lines())


def _checked_build(raw: Path, db: Path, *extra: str) -> Build:
    _run_dbt(raw, db, *extra)
    return Build(raw, db, _run_results(db))


class BackgroundBuild:
    """A dbt build running while other tests run (the machine idles during much of a dbt build)."""

    def __init__(self, raw: Path, db: Path, *extra: str) -> None:
        cmd, env = _dbt_command(raw, db, *extra)
        self.log = db.parent / f"{db.stem}.build.log"
        self._fh = self.log.open("w")
        self.proc = subprocess.Popen(
            cmd, cwd=paths.PROJECT_ROOT, env=env, stdout=self._fh, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.build = Build(raw, db, _run_results(db))

    def wait(self) -> Build:
        code = self.proc.wait()
        self._fh.close()
        assert code == 0, self.log.read_text()[-6000:]
        return self.build

    def wait_validated(self) -> Build:
        """The finished build, validated once (``lifecycle validate``), ready to publish."""
        build = self.wait()
        if not paths.artefacts(build.db).validation_report.is_file():
            _validate(build.db)
        return build

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)  # lifecycle and the dbt it started
            self.proc.wait()
        self._fh.close()


_SHARED: dict[str, Build] = {}


def shared_build(factory: pytest.TempPathFactory) -> Build:
    """The session's small warehouse (built once, also used by test_validate.py): treat as read-only."""
    if "base" not in _SHARED:
        root = factory.mktemp("small_build")
        generate(scale="demo", seed=SEED, out=root / "raw", progress=False, n_customers=N_CUSTOMERS)
        _SHARED["base"] = _checked_build(root / "raw", root / "warehouse.duckdb")
        _validate(_SHARED["base"].db)
    return _SHARED["base"]


@pytest.fixture(scope="session")
def build(tmp_path_factory: pytest.TempPathFactory) -> Build:
    return shared_build(tmp_path_factory)


@dataclass
class Rebuilds:
    erased_customer: str  # a buyer with no quarantined row keyed by their id
    erased_quarantined_customer: str | None  # a customer one of whose CRM rows was quarantined
    erasure: BackgroundBuild
    repeat: BackgroundBuild


def _erasable_customers(db: Path) -> tuple[str, str | None]:
    """A buyer with one CRM record and no quarantined row keyed by their id; and, if there is one, a
    customer of the marts one of whose CRM rows was quarantined (key 'customer_id|updated_at')."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        plain = con.execute(
            """
            select c.customer_id from marts.customers c
            where c.has_purchased and c.crm_record_count = 1
              and not exists (select 1 from marts.quarantined_rows q where starts_with(q.record_key, c.customer_id))
            order by c.purchase_orders desc, c.customer_id
            limit 1
            """
        ).fetchone()
        quarantined = con.execute(
            """
            select c.customer_id from marts.customers c
            join marts.quarantined_rows q
              on q.source_table = 'crm_customers' and starts_with(q.record_key, c.customer_id || '|')
            where c.crm_record_count = 1
            order by c.customer_id
            limit 1
            """
        ).fetchone()
    finally:
        con.close()
    assert plain is not None
    return str(plain[0]), (str(quarantined[0]) if quarantined else None)


def _add_erasures(raw: Path, customer_ids: list[str]) -> None:
    part = sorted((raw / "privacy_requests").glob("*.parquet"))[0]
    n = len(customer_ids)
    request = pa.table(
        {
            "request_id": [f"PR99000000{i:02d}" for i in range(n)],
            "customer_id": customer_ids,
            "request_type": ["erasure"] * n,
            "requested_at": ["2026-01-15T09:30:00Z"] * n,
            "_loaded_at": pa.array([datetime(2026, 1, 15, 10, 0)] * n, type=pa.timestamp("us")),
        },
        schema=pq.read_schema(part),
    )
    pq.write_table(request, part.with_name("part-erasure.parquet"))


@pytest.fixture(scope="module", autouse=True)
def rebuilds(build: Build, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rebuilds]:
    """Started once the base build exists, so they run while the publish tests run."""
    root = tmp_path_factory.mktemp("rebuilds")
    plain, quarantined = _erasable_customers(build.db)
    raw = root / "raw_with_erasure"
    shutil.copytree(build.raw, raw)
    _add_erasures(raw, [plain] + ([quarantined] if quarantined else []))
    erasure = BackgroundBuild(raw, root / "erased.duckdb")
    # Tests do not change data: models and seeds are enough to compare the marts of two builds.
    repeat = BackgroundBuild(
        build.raw, root / "again.duckdb", "--exclude-resource-type", "test", "--exclude-resource-type", "unit_test"
    )
    try:
        yield Rebuilds(plain, quarantined, erasure, repeat)
    finally:
        erasure.stop()
        repeat.stop()


@pytest.fixture()
def serving(tmp_path: Path) -> Path:
    return tmp_path / "serve" / "serving.duckdb"


# ---------------------------------------------------------------------------------------------
# Helpers


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _tables(path: Path, schema: str) -> dict[str, list[tuple[str, str]]]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        rows = con.execute(
            "select table_name, column_name, data_type from information_schema.columns "
            "where table_schema = ? order by table_name, ordinal_position",
            [schema],
        ).fetchall()
    finally:
        con.close()
    out: dict[str, list[tuple[str, str]]] = {}
    for t, c, typ in rows:
        out.setdefault(t, []).append((c, typ))
    return out


def _counts(path: Path) -> dict[str, int]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        names = [r[0] for r in con.execute(
            "select table_name from information_schema.tables where table_schema = 'marts'"
        ).fetchall()]
        return {t: int(con.execute(f'select count(*) from marts."{t}"').fetchone()[0]) for t in names}  # type: ignore[index]
    finally:
        con.close()


def _build_id(path: Path) -> str:
    rows = read_manifest(path)
    ids = {r["build_id"] for r in rows}
    assert len(ids) == 1, ids
    return str(ids.pop())


def _quick_publish(build: Build, serving: Path, **kw: Any) -> str:
    return publish(build.db, serving, skip_validate=True, dbt_results=build.run_results, **kw).build_id


def _leftovers(serving: Path) -> list[str]:
    return sorted(p.name for p in serving.parent.glob(f"{serving.name}.tmp-*"))


def _invocation_id(run_results: Path) -> str:
    return str(json.loads(run_results.read_text())["metadata"]["invocation_id"])


def _record_id(db: Path) -> str:
    con = duckdb.connect(str(db), read_only=True)
    try:
        record = read_build_record(con)
    finally:
        con.close()
    assert record is not None
    return record.invocation_id


# ---------------------------------------------------------------------------------------------
# Publish


def test_publish_copies_every_mart_with_manifest(build: Build, serving: Path, tmp_path: Path) -> None:
    reports = tmp_path / "reports"  # a copy: the publish re-validates and rewrites the report
    shutil.copytree(paths.artefacts(build.db).reports, reports)
    code = main([
        "publish", "--db", str(build.db), "--serving", str(serving),
        "--dbt-results", str(build.run_results), "--reports", str(reports),
    ])
    assert code == 0
    assert serving.is_file()
    assert not previous_path(serving).exists()  # first publish: nothing to keep
    assert _leftovers(serving) == []
    assert not serving.with_name(serving.name + ".wal").exists()

    # Same marts, same column names and types.
    source_marts = _tables(build.db, "marts")
    assert set(source_marts) >= {
        "customers", "customer_lifecycle", "customer_segments", "customer_clv",
        "clv_model_parameters", "clv_backtest", "quarantined_rows",
    }
    assert _tables(serving, "marts") == source_marts
    assert set(_tables(serving, MANIFEST_SCHEMA)) == {MANIFEST_TABLE}

    counts = _counts(build.db)
    assert _counts(serving) == counts
    manifest = read_manifest(serving)
    assert {r["mart"]: r["row_count"] for r in manifest} == counts
    assert len({r["build_id"] for r in manifest}) == 1
    first = manifest[0]
    con = duckdb.connect(str(build.db), read_only=True)
    as_of = con.execute("select max(as_of_date) from marts.customers").fetchone()[0]  # type: ignore[index]
    con.close()
    assert first["as_of_date"] == as_of
    assert first["dbt_invocation_id"] == _invocation_id(build.run_results) == _record_id(build.db)
    assert first["validation_success"] is True and first["expectations_failed"] == 0
    assert first["expectations_evaluated"] > 50
    assert isinstance(first["published_at"], datetime) and first["published_at"].utcoffset() is not None
    checks = {r["mart"]: json.loads(r["checks_summary"]) for r in manifest}
    assert checks["customer_clv"]["failed"] == 0 and checks["customer_clv"]["passed"] > 10
    # The validation ran again as part of the audit: its report (of this build) and Data Docs are there.
    revalidated = json.loads((reports / "validation.json").read_text())
    assert revalidated["success"] is True and revalidated["dbt_invocation_id"] == _record_id(build.db)
    assert (reports / "data_docs" / "index.html").is_file()


def test_second_publish_keeps_previous_copy(build: Build, serving: Path) -> None:
    first = _quick_publish(build, serving)
    second = _quick_publish(build, serving)
    assert first != second
    assert _build_id(serving) == second
    assert _build_id(previous_path(serving)) == first


# ---------------------------------------------------------------------------------------------
# Failing audits leave the serving file untouched


def _fake_results(
    build: Build, tmp_path: Path, change: dict[str, Any] | None = None, status: str | None = None
) -> Path:
    doc = json.loads(build.run_results.read_text())
    if status is not None:
        test = next(r for r in doc["results"] if r["unique_id"].startswith("test."))
        test["status"] = status
        test["message"] = f"Got 3 results, configured to {status} if != 0"
    if change:
        doc["args"].update(change)
    path = tmp_path / "fake_target" / "run_results.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc))
    return path


@pytest.mark.parametrize("status", ["fail", "error", "skipped", "runtime error"])
def test_failed_dbt_results_refuse_publish(
    build: Build, serving: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], status: str
) -> None:
    _quick_publish(build, serving)
    before = _sha256(serving), serving.stat().st_ino
    bad = _fake_results(build, tmp_path, status=status)
    code = main(["publish", "--db", str(build.db), "--serving", str(serving), "--dbt-results", str(bad),
                 "--skip-validate"])
    err = capsys.readouterr().err
    assert code != 0
    assert "dbt audit" in err and f": {status}" in err
    assert (_sha256(serving), serving.stat().st_ino) == before
    assert _leftovers(serving) == []


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"which": "run"}, "not 'dbt build'"),
        ({"select": ["customers"]}, "partial"),
        ({"exclude_resource_types": ["test"]}, "partial"),
        ({"empty": True}, "--empty"),
    ],
)
def test_partial_or_wrong_dbt_invocation_is_refused(
    build: Build, tmp_path: Path, change: dict[str, Any], message: str
) -> None:
    with pytest.raises(PublishError, match=message):
        audit_dbt_results(_fake_results(build, tmp_path, change=change))


def test_warn_counts_as_pass_and_missing_results_refuse(build: Build, tmp_path: Path) -> None:
    audit = audit_dbt_results(_fake_results(build, tmp_path, status="warn"))
    assert audit.status_counts.get("warn") == 1
    with pytest.raises(PublishError, match="no dbt results"):
        audit_dbt_results(tmp_path / "nowhere" / "run_results.json")


def test_validation_failure_refuses_publish(build: Build, serving: Path, tmp_path: Path) -> None:
    _quick_publish(build, serving)
    before = _sha256(serving), serving.stat().st_ino
    tampered = tmp_path / "tampered.duckdb"
    shutil.copy(build.db, tampered)
    con = duckdb.connect(str(tampered))
    con.execute(
        "update marts.customer_clv set p_alive = 2 "
        "where customer_id = (select min(customer_id) from marts.customer_clv where has_purchased)"
    )
    con.close()
    # The copy keeps the build record of the build, whose run results and validation report it is given.
    reports = tmp_path / "reports"
    shutil.copytree(paths.artefacts(build.db).reports, reports)
    with pytest.raises(PublishError) as err:
        publish(tampered, serving, dbt_results=build.run_results, reports_dir=reports)
    message = str(err.value)
    assert "validation: 1 of" in message and "customer_clv" in message and "column=p_alive" in message
    assert (_sha256(serving), serving.stat().st_ino) == before
    assert _leftovers(serving) == []
    assert not previous_path(serving).exists()


def test_copy_failure_leaves_serving_untouched(build: Build, serving: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import lifecycle.publish.run as pub  # the module whose publish() calls verify_copy

    _quick_publish(build, serving)
    before = _sha256(serving)
    real_verify = pub.verify_copy

    def broken_verify(tmp: Path, expected: dict[str, int], build_id: str) -> None:
        assert tmp.is_file()  # the new copy exists at this point, and must be cleaned up
        real_verify(tmp, {**expected, "customers": -1}, build_id)

    monkeypatch.setattr(pub, "verify_copy", broken_verify)
    with pytest.raises(PublishError, match="verification"):
        _quick_publish(build, serving)
    assert _sha256(serving) == before
    assert _leftovers(serving) == []


# ---------------------------------------------------------------------------------------------
# A publish killed midway


def _start_publish(build: Build, serving: Path, hook: str) -> subprocess.Popen[str]:
    env = dict(os.environ, **{hook: "120"})
    exe = Path(sys.executable).with_name("lifecycle")
    return subprocess.Popen(
        [str(exe), "publish", "--db", str(build.db), "--serving", str(serving),
         "--dbt-results", str(build.run_results), "--skip-validate"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


@pytest.mark.parametrize("hook", [PAUSE_DURING_COPY, PAUSE_BEFORE_RENAME])
def test_killed_publish_leaves_previous_serving_intact(build: Build, serving: Path, hook: str) -> None:
    published = _quick_publish(build, serving)
    before = _sha256(serving)
    proc = _start_publish(build, serving, hook)
    try:
        assert proc.stderr is not None
        line = proc.stderr.readline()  # blocks until the hook is reached (or the process dies)
        assert "test hook: pausing" in line, line + proc.stderr.read()
        assert [n for n in _leftovers(serving) if not n.endswith(".wal")]  # the half-written (or complete) copy
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert _sha256(serving) == before
    assert _build_id(serving) == published  # still openable, still the old build
    assert _counts(serving) == _counts(build.db)

    # The next publish cleans up after the killed one and succeeds.
    result = publish(build.db, serving, skip_validate=True, dbt_results=build.run_results)
    assert any("interrupted publish" in w for w in result.warnings)
    assert _leftovers(serving) == []
    assert _build_id(serving) == result.build_id
    assert _build_id(previous_path(serving)) == published


def test_concurrent_publish_is_refused(build: Build, serving: Path) -> None:
    _quick_publish(build, serving)
    proc = _start_publish(build, serving, PAUSE_BEFORE_RENAME)
    try:
        assert proc.stderr is not None
        assert "test hook: pausing" in proc.stderr.readline()
        with pytest.raises(PublishError, match="another publish"):
            _quick_publish(build, serving)
    finally:
        proc.kill()
        proc.wait()


# ---------------------------------------------------------------------------------------------
# Readers


_READER = """
import sys, duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
def snap():
    b = con.execute("select distinct build_id from meta.publish_manifest").fetchall()
    n = con.execute("select count(*) from marts.customers").fetchone()[0]
    m = con.execute("select sum(row_count) from meta.publish_manifest where mart = 'customers'").fetchone()[0]
    return f"{b[0][0]} {n} {m} {len(b)}"
print(snap(), flush=True)
sys.stdin.readline()  # the test publishes meanwhile
print(snap(), flush=True)
"""


def test_open_reader_does_not_block_and_sees_consistent_data(build: Build, serving: Path) -> None:
    old = _quick_publish(build, serving)
    reader = subprocess.Popen(
        [sys.executable, "-c", _READER, str(serving)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        assert reader.stdout is not None and reader.stdin is not None
        first = reader.stdout.readline().split()
        assert first and first[0] == old, reader.stderr.read() if reader.stderr else ""
        # The reader holds the file open read-only: the publish must neither fail nor wait.
        new = publish(build.db, serving, skip_validate=True, dbt_results=build.run_results).build_id
        assert new != old
        reader.stdin.write("\n")
        reader.stdin.flush()
        again = reader.stdout.readline().split()
        # The open connection keeps its old file: same build, and data consistent with its manifest.
        assert again == first
        assert again[1] == again[2] and again[3] == "1"
    finally:
        reader.kill()
        reader.wait()
    # A new connection sees the new build.
    assert _build_id(serving) == new


def test_in_process_connection_cache_caveat(build: Build, serving: Path) -> None:
    """DuckDB caches open databases per path within a process: a connection opened while another
    one to the same path is still open shares the OLD file; once all are closed, a new one sees
    the new file. Serving code should use short-lived connections (or reopen after a publish)."""
    old = _quick_publish(build, serving)
    held = duckdb.connect(str(serving), read_only=True)
    try:
        new = _quick_publish(build, serving)
        second = duckdb.connect(str(serving), read_only=True)
        seen = second.execute("select distinct build_id from meta.publish_manifest").fetchall()
        second.close()
        assert seen == [(old,)]
    finally:
        held.close()
    assert _build_id(serving) == new


# ---------------------------------------------------------------------------------------------
# Rollback


def test_rollback_restores_previous_and_can_roll_forward(
    build: Build, serving: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(PublishError, match="no previous copy"):
        rollback(serving)
    first = _quick_publish(build, serving)
    second = _quick_publish(build, serving)
    assert main(["publish", "--serving", str(serving), "--rollback"]) == 0
    assert first in capsys.readouterr().out
    assert _build_id(serving) == first
    assert _build_id(previous_path(serving)) == second
    assert _counts(serving) == _counts(build.db)
    rollback(serving)  # a second rollback rolls forward again
    assert _build_id(serving) == second
    assert _leftovers(serving) == []


# ---------------------------------------------------------------------------------------------
# Erasure


def _customer_columns(path: Path) -> list[tuple[str, str, str]]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return [tuple(r) for r in con.execute(  # type: ignore[misc]
            "select table_schema, table_name, column_name from information_schema.columns "
            "where data_type = 'VARCHAR' and table_schema in ('marts', 'meta')"
        ).fetchall()]
    finally:
        con.close()


def _mentions(path: Path, customer_id: str) -> list[str]:
    """Every (table.column) of the file holding the id, alone or as the first part of a key."""
    found = []
    con = duckdb.connect(str(path), read_only=True)
    try:
        for schema, table, col in _customer_columns(path):
            n = con.execute(
                f'select count(*) from {schema}."{table}" where "{col}" = ? or starts_with("{col}", ?)',
                [customer_id, customer_id + "|"],
            ).fetchone()[0]  # type: ignore[index]
            if n:
                found.append(f"{schema}.{table}.{col}")
    finally:
        con.close()
    return found


def test_erased_customer_disappears_at_next_publish(build: Build, rebuilds: Rebuilds, serving: Path) -> None:
    customer_id = rebuilds.erased_customer
    _quick_publish(build, serving)
    present = _mentions(serving, customer_id)
    assert "marts.customers.customer_id" in present and "marts.customer_clv.customer_id" in present

    # The raw data gained an erasure request for the customer; the rebuild (a full dbt build,
    # so the publish audit passes on its own results) is published over the old serving file.
    rebuilt = rebuilds.erasure.wait_validated()
    result = publish(rebuilt.db, serving, skip_validate=True, dbt_results=rebuilt.run_results)
    assert _mentions(serving, customer_id) == []
    erased = 1 + (rebuilds.erased_quarantined_customer is not None)
    assert result.row_counts["customers"] == _counts(build.db)["customers"] - erased
    if rebuilds.erased_quarantined_customer:
        # Gone from every mart, the quarantine log included.
        assert _mentions(serving, rebuilds.erased_quarantined_customer) == []
    # ... and from the rollback copy: the old serving file held the customer, so it is not kept.
    assert result.previous is None
    assert not previous_path(serving).exists()
    assert any("erased" in w for w in result.warnings)


def test_erased_customer_leaves_no_quarantine_key(rebuilds: Rebuilds, tmp_path: Path) -> None:
    if rebuilds.erased_quarantined_customer is None:
        pytest.skip("no customer with a quarantined CRM row in this data set")
    rebuilt = rebuilds.erasure.wait_validated()
    serving = tmp_path / "serving.duckdb"
    publish(rebuilt.db, serving, skip_validate=True, dbt_results=rebuilt.run_results)
    assert _mentions(serving, rebuilds.erased_quarantined_customer) == []


# ---------------------------------------------------------------------------------------------
# Repeatability


VOLATILE_COLUMNS = {"clv_model_parameters": {"fit_seconds"}}  # wall time of the fit
# Marts checked separately below without their surrogate ids as well (belt and braces).
ORDER_DEPENDENT = {"quarantined_rows"}


def _checksums(path: Path, exclude_columns: dict[str, set[str]] | None = None) -> dict[str, tuple[int, str]]:
    """Per mart: row count and md5 of all rows as text, sorted (order-independent)."""
    exclude_columns = exclude_columns or {}
    con = duckdb.connect(str(path), read_only=True)
    try:
        out = {}
        for t, cols in _tables(path, "marts").items():
            keep = [c for c, _ in cols if c not in exclude_columns.get(t, set())]
            row_text = " || '\x1f' || ".join(f"coalesce(cast(\"{c}\" as varchar), '<null>')" for c in keep)
            out[t] = con.execute(
                f"select count(*), md5(coalesce(string_agg(r, '\n' order by r), '')) "
                f'from (select {row_text} as r from marts."{t}")'
            ).fetchone()
        return out  # type: ignore[return-value]
    finally:
        con.close()


@pytest.fixture(scope="module")
def rebuilt_same_raw(rebuilds: Rebuilds) -> Build:
    return rebuilds.repeat.wait()


def test_rebuild_gives_identical_marts(build: Build, rebuilt_same_raw: Build) -> None:
    a = _checksums(build.db, VOLATILE_COLUMNS)
    b = _checksums(rebuilt_same_raw.db, VOLATILE_COLUMNS)
    assert set(a) == set(b)
    differ = sorted(t for t in a if t not in ORDER_DEPENDENT and a[t] != b[t])
    assert differ == [], f"marts differ between two builds of the same raw data: {differ}"


def test_rebuild_order_dependent_marts_agree_without_surrogate_ids(build: Build, rebuilt_same_raw: Build) -> None:
    con = duckdb.connect()
    con.execute(f"attach '{build.db}' as a (read_only)")
    con.execute(f"attach '{rebuilt_same_raw.db}' as b (read_only)")
    # quarantined_rows: the same rows once the surrogate id (row_number over ties) is ignored.
    cols = "source_table, record_key, quarantine_reason, detected_in, _loaded_at"
    diff = con.execute(
        f"select count(*) from ((select {cols} from a.marts.quarantined_rows except all "
        f"select {cols} from b.marts.quarantined_rows) union all (select {cols} from b.marts.quarantined_rows "
        f"except all select {cols} from a.marts.quarantined_rows))"
    ).fetchone()
    con.close()
    assert diff == (0,)


def test_rebuild_order_dependent_marts_identical(build: Build, rebuilt_same_raw: Build) -> None:
    a = _checksums(build.db, VOLATILE_COLUMNS)
    b = _checksums(rebuilt_same_raw.db, VOLATILE_COLUMNS)
    assert {t: a[t] for t in ORDER_DEPENDENT} == {t: b[t] for t in ORDER_DEPENDENT}



# ---------------------------------------------------------------------------------------------
# Provenance: the build record against the run results and the validation report


def _record(db: Path) -> BuildRecord:
    con = duckdb.connect(str(db), read_only=True)
    try:
        record = read_build_record(con)
    finally:
        con.close()
    assert record is not None
    return record


def _copy_warehouse(build: Build, root: Path) -> Path:
    """A private copy of the shared warehouse with its artefacts (same file name: same catalog)."""
    db = root / build.db.name
    root.mkdir(parents=True, exist_ok=True)
    shutil.copy(build.db, db)
    src, dst = paths.artefacts(build.db), paths.artefacts(db)
    shutil.copytree(src.target, dst.target, ignore=shutil.ignore_patterns("compiled", "run"))
    shutil.copytree(src.reports, dst.reports)
    return db


def _publish_cli(db: Path, serving: Path, *flags: str) -> int:
    return main(["publish", "--db", str(db), "--serving", str(serving), *flags])


def test_build_record_describes_the_build(build: Build) -> None:
    record = _record(build.db)
    results = json.loads(build.run_results.read_text())
    assert record.invocation_id == results["metadata"]["invocation_id"]
    assert record.command == "build" and record.invocation_command == "dbt build"
    assert record.target_path == str(paths.artefacts(build.db).target)
    # Every node result, not the hook's own (the last entry of run_results.json).
    node_results = [r for r in results["results"] if not r["unique_id"].startswith("operation.")]
    assert record.results_count == len(node_results) and 0 < record.selected_nodes <= record.results_count
    assert record.success_count == sum(r["status"] in ("success", "pass") for r in node_results)
    assert record.error_count == record.fail_count == record.skipped_count == 0
    assert record.started_at <= record.finished_at
    con = duckdb.connect(str(build.db), read_only=True)
    as_of = con.execute("select max(as_of_date) from marts.customers").fetchone()[0]  # type: ignore[index]
    con.close()
    assert record.as_of_date == as_of
    report = json.loads(paths.artefacts(build.db).validation_report.read_text())
    assert report["dbt_invocation_id"] == record.invocation_id


@pytest.fixture(scope="module")
def two_warehouses(tmp_path_factory: pytest.TempPathFactory) -> tuple[Build, Build]:
    """Two small warehouses in ONE directory, from two raw dirs, built and validated one after the other."""
    root = tmp_path_factory.mktemp("two_warehouses")
    builds = []
    for name, seed in (("shop_a", 11), ("shop_b", 13)):
        raw = root / f"raw_{name}"
        generate(scale="demo", seed=seed, out=raw, progress=False, n_customers=400)
        built = _checked_build(raw, root / f"{name}.duckdb")
        _validate(built.db)
        builds.append(built)
    return builds[0], builds[1]


def test_two_warehouses_keep_their_own_artefacts_and_each_publishes(
    two_warehouses: tuple[Build, Build], tmp_path: Path
) -> None:
    a, b = two_warehouses
    art_a, art_b = paths.artefacts(a.db), paths.artefacts(b.db)
    assert art_a.root != art_b.root and art_a.root.parent == art_b.root.parent == a.db.parent
    id_a, id_b = _record_id(a.db), _record_id(b.db)
    assert id_a != id_b
    # Building b after a left a's run results and validation report alone.
    assert _invocation_id(art_a.run_results) == id_a and _invocation_id(art_b.run_results) == id_b
    assert json.loads(art_a.validation_report.read_text())["dbt_invocation_id"] == id_a
    assert json.loads(art_b.validation_report.read_text())["dbt_invocation_id"] == id_b
    assert not (paths.PROJECT_ROOT / "target" / "run_results.json").exists() or (
        _invocation_id(paths.PROJECT_ROOT / "target" / "run_results.json") not in (id_a, id_b)
    )
    # Each publishes from its own artefacts, found from --db alone.
    for built, invocation in ((a, id_a), (b, id_b)):
        serving = tmp_path / f"{built.db.stem}_serving.duckdb"
        assert _publish_cli(built.db, serving, "--skip-validate") == 0
        assert {r["dbt_invocation_id"] for r in read_manifest(serving)} == {invocation}
        assert _counts(serving) == _counts(built.db)


def test_run_results_of_another_warehouse_are_refused(
    two_warehouses: tuple[Build, Build], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a, b = two_warehouses
    serving = tmp_path / "serving.duckdb"
    id_a, id_b = _record_id(a.db), _record_id(b.db)
    # Read from where they are ...
    for flags in ((), ("--skip-validate",)):
        assert _publish_cli(a.db, serving, "--dbt-results", str(b.run_results), *flags) == 1
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "refused" in err and id_a in err and id_b in err
    # ... or copied into a's target directory.
    original = a.run_results.read_bytes()
    try:
        shutil.copy(b.run_results, a.run_results)
        assert _publish_cli(a.db, serving, "--skip-validate") == 1
        err = capsys.readouterr().err
        assert "refused" in err and id_a in err and id_b in err
    finally:
        a.run_results.write_bytes(original)
    assert not serving.exists()


def test_partial_run_after_validation_is_refused(
    build: Build, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = _copy_warehouse(build, tmp_path / "partial")
    built_id = _record_id(db)
    saved_results = tmp_path / "run_results_of_the_build.json"
    shutil.copy(paths.artefacts(db).run_results, saved_results)
    # Validated, then one model rebuilt by a partial run (which also rewrites the target's results).
    _run_dbt(build.raw, db, "--select", "customers", command="run")
    record = _record(db)
    assert record.command == "run" and record.invocation_id != built_id
    assert record.results_count == 1 and "--select customers" in (record.invocation_command or "")
    serving = tmp_path / "serving.duckdb"
    for flags in ((), ("--skip-validate",)):
        # The results of the run match the record, but the validation report is of the build.
        assert _publish_cli(db, serving, *flags) == 1
        err = capsys.readouterr().err
        assert "validation report" in err and record.invocation_id in err and built_id in err
        assert err.count("\n") == 1
        # The results of the build, given explicitly, do not match the record.
        assert _publish_cli(db, serving, "--dbt-results", str(saved_results), *flags) == 1
        err = capsys.readouterr().err
        assert "latest dbt invocation on" in err and "is dbt run" in err
        assert record.invocation_id in err and built_id in err
    assert not serving.exists()


def test_build_record_counts_a_failing_test_and_publish_refuses(
    build: Build, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = _copy_warehouse(build, tmp_path / "failing")
    built_id = _record_id(db)
    con = duckdb.connect(str(db))
    con.execute("update marts.customers set channel_mix = 'bogus' where customer_id = (select min(customer_id) "
                "from marts.customers)")
    con.close()
    _run_dbt(build.raw, db, "--select", "customers", command="test", expect_code=1)
    record = _record(db)
    assert record.command == "test" and record.fail_count == 1
    assert record.success_count == record.results_count - 1 and record.error_count == record.skipped_count == 0
    assert _invocation_id(paths.artefacts(db).run_results) == record.invocation_id
    serving = tmp_path / "serving.duckdb"
    assert _publish_cli(db, serving, "--skip-validate") == 1
    err = capsys.readouterr().err
    assert "is dbt test" in err and built_id in err and "full 'lifecycle dbt build'" in err
    assert not serving.exists()


def test_a_failing_batched_test_names_its_column(build: Build, tmp_path: Path) -> None:
    """One query checks several columns of a model (tests/generic/columns_*.sql); a bad value in one
    of them fails that test with the column named in its failing rows, and the failure count."""
    db = _copy_warehouse(build, tmp_path / "batched")
    con = duckdb.connect(str(db))
    con.execute("update marts.customers set crm_record_count = 0, gender = 'bogus' "
                "where customer_id = (select min(customer_id) from marts.customers)")
    con.close()
    _run_dbt(build.raw, db, "--select", "customers", command="test", expect_code=1)
    results = json.loads(paths.artefacts(db).run_results.read_text())["results"]
    failed = {r["unique_id"].split(".")[2]: r for r in results if r["status"] == "fail"}
    assert {name.split("_customers")[0] for name in failed} == {"columns_in_range", "columns_accepted_values"}
    con = duckdb.connect(str(db), read_only=True)
    try:
        rows = {name.split("_customers")[0]: con.execute(r["compiled_code"]).fetchall() for name, r in failed.items()}
    finally:
        con.close()
    assert rows == {"columns_in_range": [("crm_record_count", 1)], "columns_accepted_values": [("gender", 1)]}
    assert all(r["failures"] == 1 for r in failed.values())


def test_warehouse_without_build_record_is_refused(
    build: Build, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = _copy_warehouse(build, tmp_path / "norecord")
    con = duckdb.connect(str(db))
    con.execute(f"drop table {RECORD_SCHEMA}.{RECORD_TABLE}")
    con.close()
    serving = tmp_path / "serving.duckdb"
    for flags in ((), ("--skip-validate",), ("--dbt-results", str(build.run_results))):
        assert _publish_cli(db, serving, *flags) == 1
        err = capsys.readouterr().err
        assert "has no build record" in err and err.count("\n") == 1
    assert not serving.exists()


def test_validation_report_missing_or_failed_is_refused(build: Build, tmp_path: Path) -> None:
    db = _copy_warehouse(build, tmp_path / "unvalidated")
    report = paths.artefacts(db).validation_report
    serving = tmp_path / "serving.duckdb"
    doc = json.loads(report.read_text())
    report.write_text(json.dumps({**doc, "success": False}))
    with pytest.raises(PublishError, match="did not pass"):
        publish(db, serving, skip_validate=True)
    report.unlink()
    with pytest.raises(PublishError, match="no validation report"):
        publish(db, serving, skip_validate=True)
    assert not serving.exists()


@pytest.mark.parametrize(
    ("unique_id", "status", "ok"),
    [
        ("exposure.customer_lifecycle.serving_duckdb", "no-op", True),
        ("model.customer_lifecycle.customers", "no-op", False),
        ("test.customer_lifecycle.not_null_customers_customer_id", "no-op", False),
        ("exposure.customer_lifecycle.serving_duckdb", "skipped", False),
        ("model.customer_lifecycle.customers", "success", True),
    ],
)
def test_only_an_exposure_may_be_a_no_op(unique_id: str, status: str, ok: bool) -> None:
    from lifecycle.publish.audit import result_is_ok

    assert result_is_ok({"unique_id": unique_id, "status": status}) is ok
