"""``lifecycle publish --to postgresql://...`` against a real PostgreSQL server (tests/python/pg_server.py).

On the session's small validated build (test_publish.shared_build), each test in a database of
its own: the published marts match the warehouse (row counts, sums, lengths), carry comments,
keys, not-null constraints and indexes; readers during a publish see the old build or the new
one, never a mix or an error; a pooled connection sees the new build at its next query; a publish
killed halfway leaves ``marts`` intact and the next one cleans up; rollback; a failed audit or
validation leaves ``marts`` untouched; the read-only role cannot write; erasure drops the kept
previous build; the loader's text fidelity (quotes, newlines, NaN, lists) on a synthetic table.
"""

from __future__ import annotations

import math
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import duckdb
import psycopg
import pytest
from pg_server import PgServer
from test_publish import Build, _copy_warehouse, _fake_results, shared_build

from lifecycle import paths
from lifecycle.cli import main
from lifecycle.publish import PAUSE_BEFORE_RENAME, PAUSE_DURING_COPY, PublishError
from lifecycle.publish.catalog import read_tables
from lifecycle.publish.pg_load import copy_table
from lifecycle.publish.pg_schema import index_columns, pg_type
from lifecycle.publish.postgres import DEFAULT_READER_ROLE, publish_postgres, rollback_postgres

pytestmark = pytest.mark.slow

NUMERIC_TYPES = ("DECIMAL", "BIGINT", "INTEGER", "DOUBLE")


@pytest.fixture(scope="module")
def build(tmp_path_factory: pytest.TempPathFactory) -> Build:
    return shared_build(tmp_path_factory)


@pytest.fixture()
def pg_url(pg_server: PgServer, request: pytest.FixtureRequest) -> str:
    """A fresh database for one test."""
    name = "t_" + "".join(c if c.isalnum() else "_" for c in request.node.name.lower())[:50]
    with psycopg.connect(pg_server.url(), autocommit=True) as con:
        con.execute(f'drop database if exists "{name}" with (force)')
        con.execute(f'create database "{name}"')
    return pg_server.url(dbname=name)


@pytest.fixture(scope="module")
def smaller_build(build: Build, tmp_path_factory: pytest.TempPathFactory) -> Build:
    """A copy of the build with 100 fewer customers in marts.customers: a second, different build."""
    db = _copy_warehouse(build, tmp_path_factory.mktemp("smaller"))
    con = duckdb.connect(str(db))
    con.execute(
        "delete from marts.customers where customer_id in (select customer_id from marts.customers "
        "order by customer_id limit 100)"
    )
    con.close()
    return Build(build.raw, db, paths.artefacts(db).run_results)


def _publish(build: Build, url: str, **kw: Any) -> str:
    return publish_postgres(build.db, url, skip_validate=True, dbt_results=build.run_results, **kw).build_id


def _q(url: str, query: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    with psycopg.connect(url, autocommit=True) as con:
        cur = con.execute(query, params)  # type: ignore[arg-type]
        return cur.fetchall() if cur.description else []


def _build_id(url: str, schema: str = "meta") -> str:
    rows = _q(url, f"select distinct build_id from {schema}.publish_manifest")
    assert len(rows) == 1, rows
    return str(rows[0][0])


def _schemas(url: str) -> set[str]:
    return {
        r[0] for r in _q(url, "select nspname from pg_namespace where nspname like 'mart%' or nspname like 'meta%'")
    }


def _pg_counts(url: str, schema: str = "marts") -> dict[str, int]:
    tables = [
        r[0] for r in _q(url, "select table_name from information_schema.tables where table_schema = %s", [schema])
    ]
    return {t: int(_q(url, f'select count(*) from {schema}."{t}"')[0][0]) for t in tables}


def _duck_counts(db: Path) -> dict[str, int]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return {
            t.name: int(con.execute(f'select count(*) from marts."{t.name}"').fetchone()[0])  # type: ignore[index]
            for t in read_tables(con, "marts")
        }
    finally:
        con.close()


# ---------------------------------------------------------------------------------------------
# What is published


def _aggregates(table_cols: list[tuple[str, str]]) -> str:
    """Per column: the sum of a number, the total length of a text, min and max of a date."""
    parts = []
    for name, kind in table_cols:
        col = f'"{name}"'
        if kind.startswith(NUMERIC_TYPES):
            parts.append(f"sum({col})::double precision")
        elif kind == "VARCHAR":
            parts.append(f"sum(length({col}))::bigint")
        elif kind in ("DATE", "TIMESTAMP", "BOOLEAN"):
            parts.append(f"count(distinct {col})::bigint")
        parts.append(f"count({col})::bigint")
    return ", ".join(parts)


def _same(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is b
    if isinstance(a, float) and math.isnan(a):
        return math.isnan(b)
    return bool(a == pytest.approx(b, rel=1e-9))


def _format_type(spelled: str) -> str:
    """pg_type's spelling as PostgreSQL's format_type() writes it."""
    return {"timestamp": "timestamp without time zone"}.get(spelled, spelled.replace(", ", ","))


def test_publish_matches_the_warehouse(
    build: Build, pg_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    reports = tmp_path / "reports"  # a copy: the publish re-validates and rewrites the report
    shutil.copytree(paths.artefacts(build.db).reports, reports)
    code = main(
        [
            "publish",
            "--to",
            pg_url,
            "--db",
            str(build.db),
            "--dbt-results",
            str(build.run_results),
            "--reports",
            str(reports),
        ]
    )
    out = capsys.readouterr().out
    assert code == 0, out
    assert "Published build" in out and pg_url in out
    counts = _duck_counts(build.db)
    assert _pg_counts(pg_url) == counts
    assert _schemas(pg_url) == {"marts", "meta"}  # first publish: no previous build, no leftovers
    manifest = _q(
        pg_url,
        "select mart, row_count, validation_success, expectations_failed, expectations_evaluated "
        "from meta.publish_manifest",
    )
    assert {m: n for m, n, *_ in manifest} == counts
    assert all(ok is True and failed == 0 and evaluated > 50 for _, _, ok, failed, evaluated in manifest)

    con = duckdb.connect(str(build.db), read_only=True)
    try:
        for table in read_tables(con, "marts"):
            cols = [(c.name, c.data_type) for c in table.columns]
            agg = _aggregates(cols)
            duck = con.execute(f'select {agg} from marts."{table.name}"').fetchone()
            pg = _q(pg_url, f'select {agg} from marts."{table.name}"')[0]
            assert duck is not None
            for a, b in zip(duck, pg, strict=True):
                assert _same(a, b), (table.name, duck, pg)
            # Column names and types, in order, as pg_type maps them.
            pg_cols = _q(
                pg_url,
                "select column_name, format_type(atttypid, atttypmod) from information_schema.columns "
                "join pg_attribute on attrelid = (table_schema || '.' || table_name)::regclass "
                "and attname = column_name where table_schema = 'marts' and table_name = %s "
                "order by ordinal_position",
                [table.name],
            )
            assert pg_cols == [(c.name, _format_type(pg_type(c.data_type))) for c in table.columns]
    finally:
        con.close()


def test_comments_keys_not_null_and_indexes(build: Build, pg_url: str) -> None:
    _publish(build, pg_url)
    con = duckdb.connect(str(build.db), read_only=True)
    try:
        tables = read_tables(con, "marts")
    finally:
        con.close()
    indexed_somewhere = 0
    for table in tables:
        oid = f"marts.{table.name}"
        assert _q(pg_url, "select obj_description(%s::regclass, 'pg_class')", [oid])[0][0] == table.comment
        comments = dict(
            _q(
                pg_url,
                "select attname, col_description(attrelid, attnum) from pg_attribute "
                "where attrelid = %s::regclass and attnum > 0",
                [oid],
            )
        )
        assert comments == {c.name: c.comment for c in table.columns}
        not_null = {
            r[0]
            for r in _q(
                pg_url,
                "select attname from pg_attribute where attrelid = %s::regclass and attnum > 0 and attnotnull",
                [oid],
            )
        }
        assert not_null == {c.name for c in table.columns if c.not_null}
        pk = _q(
            pg_url,
            "select array_agg(a.attname order by k.ord) from pg_index i "
            "cross join unnest(i.indkey) with ordinality k(attnum, ord) "
            "join pg_attribute a on a.attrelid = i.indrelid and a.attnum = k.attnum "
            "where i.indrelid = %s::regclass and i.indisprimary",
            [oid],
        )[0][0]
        assert tuple(pk or ()) == table.primary_key and table.primary_key
        single = {
            r[0]
            for r in _q(
                pg_url,
                "select a.attname from pg_index i join pg_attribute a "
                "on a.attrelid = i.indrelid and a.attnum = i.indkey[0] "
                "where i.indrelid = %s::regclass and i.indnatts = 1 "
                "and not i.indisprimary",
                [oid],
            )
        }
        assert single == set(index_columns(table))
        indexed_somewhere += len(single)
    assert indexed_somewhere >= 10
    by_name = {t.name: t for t in tables}
    assert "customer_id" in index_columns(by_name["customer_lifecycle_history"])
    assert "lifecycle_stage" in index_columns(by_name["customer_lifecycle"])


# ---------------------------------------------------------------------------------------------
# Readers


def _snapshot(con: psycopg.Connection) -> tuple[str, int, int, int]:
    """One statement: the build id(s) of the manifest, the customers counted, the manifest's count."""
    row = con.execute(
        "select (select min(build_id) from meta.publish_manifest), "
        "(select count(distinct build_id) from meta.publish_manifest), "
        "(select count(*) from marts.customers), "
        "(select row_count from meta.publish_manifest where mart = 'customers')"
    ).fetchone()
    assert row is not None
    return str(row[0]), int(row[1]), int(row[2]), int(row[3])


def test_readers_during_a_publish_see_old_or_new_never_a_mix(build: Build, smaller_build: Build, pg_url: str) -> None:
    old = _publish(build, pg_url)
    stop = threading.Event()
    seen: list[tuple[str, int, int, int]] = []
    errors: list[str] = []

    def reader(transaction_per_read: bool) -> None:
        try:
            with psycopg.connect(pg_url, autocommit=not transaction_per_read) as con:
                while not stop.is_set():
                    if transaction_per_read:
                        # Two statements in one read-committed transaction, as many BI tools read.
                        with con.transaction():
                            first = _snapshot(con)
                            n = con.execute("select count(*) from marts.customers").fetchone()
                        assert n is not None
                        if n[0] != first[2]:
                            errors.append(f"two statements of one transaction disagree: {first} then {n[0]}")
                    else:
                        first = _snapshot(con)
                    seen.append(first)
        except Exception as exc:  # any error a reader meets fails the test
            errors.append(f"{type(exc).__name__}: {exc}")

    threads = [threading.Thread(target=reader, args=(flag,)) for flag in (False, True)]
    for t in threads:
        t.start()
    try:
        time.sleep(0.5)
        new = _publish(smaller_build, pg_url)
        time.sleep(0.5)
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=30)
    assert errors == []
    builds = {b for b, *_ in seen}
    assert builds == {old, new}, "the readers must have read before and after the swap"
    assert all(n_ids == 1 and counted == manifest for _, n_ids, counted, manifest in seen)
    counts = {b: counted for b, _, counted, _ in seen}
    assert counts[old] == counts[new] + 100
    # Every read after the first one of the new build is of the new build (no going back).
    order = [b for b, *_ in seen]
    print(f"readers: {len(seen)} reads, {order.count(old)} of the old build, {order.count(new)} of the new")


def test_a_pooled_connection_sees_the_new_build_at_its_next_query(
    build: Build, smaller_build: Build, pg_url: str
) -> None:
    old = _publish(build, pg_url)
    query = "select min(build_id), count(*) from meta.publish_manifest cross join lateral (select 1) x"
    customers = "select count(*) from marts.customers"
    with psycopg.connect(pg_url, autocommit=True) as pooled, psycopg.connect(pg_url) as in_transactions:
        for _ in range(8):  # past psycopg's prepare threshold: the statements are server-side prepared
            assert pooled.execute(query, prepare=True).fetchone()[0] == old  # type: ignore[index]
            pooled.execute(customers, prepare=True)
            in_transactions.execute(customers, prepare=True)
            in_transactions.commit()  # what a pool does when a connection is returned
        before = pooled.execute(customers, prepare=True).fetchone()[0]  # type: ignore[index]
        new = _publish(smaller_build, pg_url)
        assert pooled.execute(query, prepare=True).fetchone()[0] == new  # type: ignore[index]
        assert pooled.execute(customers, prepare=True).fetchone()[0] == before - 100  # type: ignore[index]
        assert in_transactions.execute(customers, prepare=True).fetchone()[0] == before - 100  # type: ignore[index]


def test_an_open_reader_transaction_delays_then_fails_the_swap_leaving_marts(
    build: Build, pg_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    old = _publish(build, pg_url)
    with psycopg.connect(pg_url, application_name="stuck bi tool") as idle:
        idle.execute("select count(*) from marts.customers")  # and stays idle in transaction
        code = main(
            [
                "publish",
                "--to",
                pg_url,
                "--db",
                str(build.db),
                "--dbt-results",
                str(build.run_results),
                "--skip-validate",
                "--swap-timeout",
                "2",
            ]
        )
        err = capsys.readouterr().err
        assert code == 1
        assert err.count("\n") == 1 and "stuck bi tool" in err and "idle in transaction" in err
        assert "marts is unchanged" in err
        assert idle.execute("select count(*) from meta.publish_manifest").fetchone() is not None
    assert _build_id(pg_url) == old
    assert _schemas(pg_url) == {"marts", "meta"}  # the new schemas were dropped


# ---------------------------------------------------------------------------------------------
# A publish killed halfway


def _start_publish(build: Build, url: str, hook: str) -> subprocess.Popen[str]:
    env = dict(os.environ, **{hook: "120"})
    exe = Path(sys.executable).with_name("lifecycle")
    return subprocess.Popen(
        [
            str(exe),
            "publish",
            "--to",
            url,
            "--db",
            str(build.db),
            "--dbt-results",
            str(build.run_results),
            "--skip-validate",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.parametrize("hook", [PAUSE_DURING_COPY, PAUSE_BEFORE_RENAME])
def test_killed_publish_leaves_marts_intact(build: Build, smaller_build: Build, pg_url: str, hook: str) -> None:
    published = _publish(build, pg_url)
    proc = _start_publish(smaller_build, pg_url, hook)
    try:
        assert proc.stderr is not None
        line = proc.stderr.readline()  # blocks until the hook is reached (or the process dies)
        assert "test hook: pausing" in line, line + proc.stderr.read()
        assert any(s.startswith("marts_new_") for s in _schemas(pg_url))  # the half-written (or complete) build
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert _build_id(pg_url) == published
    assert _pg_counts(pg_url) == _duck_counts(build.db)

    result = publish_postgres(smaller_build.db, pg_url, skip_validate=True, dbt_results=smaller_build.run_results)
    assert any("interrupted publish" in w for w in result.warnings)
    assert _schemas(pg_url) == {"marts", "meta", "marts_previous", "meta_previous"}
    assert _build_id(pg_url) == result.build_id
    assert _build_id(pg_url, "meta_previous") == published


def test_concurrent_publish_is_refused(build: Build, pg_url: str) -> None:
    _publish(build, pg_url)
    proc = _start_publish(build, pg_url, PAUSE_BEFORE_RENAME)
    try:
        assert proc.stderr is not None
        assert "test hook: pausing" in proc.stderr.readline()
        with pytest.raises(PublishError, match="another publish"):
            _publish(build, pg_url)
    finally:
        proc.kill()
        proc.wait()


# ---------------------------------------------------------------------------------------------
# Rollback


def test_rollback_restores_the_previous_build_and_rolls_forward(
    build: Build, smaller_build: Build, pg_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(PublishError, match="no previous build"):
        rollback_postgres(pg_url)
    first = _publish(build, pg_url)
    second = _publish(smaller_build, pg_url)
    assert main(["publish", "--to", pg_url, "--rollback"]) == 0
    assert first in capsys.readouterr().out
    assert _build_id(pg_url) == first and _build_id(pg_url, "meta_previous") == second
    assert _pg_counts(pg_url) == _duck_counts(build.db)
    assert _pg_counts(pg_url, "marts_previous") == _duck_counts(smaller_build.db)
    rollback_postgres(pg_url)
    assert _build_id(pg_url) == second and _build_id(pg_url, "meta_previous") == first
    # A third publish replaces the older previous build.
    third = _publish(build, pg_url)
    assert _build_id(pg_url) == third and _build_id(pg_url, "meta_previous") == second
    assert _schemas(pg_url) == {"marts", "meta", "marts_previous", "meta_previous"}


# ---------------------------------------------------------------------------------------------
# Failed audits leave marts untouched


def test_failed_validation_leaves_marts_untouched(build: Build, pg_url: str, tmp_path: Path) -> None:
    old = _publish(build, pg_url)
    tampered = _copy_warehouse(build, tmp_path / "tampered")
    con = duckdb.connect(str(tampered))
    con.execute(
        "update marts.customer_clv set p_alive = 2 "
        "where customer_id = (select min(customer_id) from marts.customer_clv where has_purchased)"
    )
    con.close()
    with pytest.raises(PublishError, match="validation: 1 of") as err:
        publish_postgres(tampered, pg_url)
    assert "column=p_alive" in str(err.value)
    assert _build_id(pg_url) == old
    assert _schemas(pg_url) == {"marts", "meta"}


def test_failed_dbt_results_leave_marts_untouched(
    build: Build, pg_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old = _publish(build, pg_url)
    bad = _fake_results(build, tmp_path, status="fail")
    code = main(["publish", "--to", pg_url, "--db", str(build.db), "--dbt-results", str(bad), "--skip-validate"])
    err = capsys.readouterr().err
    assert code == 1 and "dbt audit" in err
    assert _build_id(pg_url) == old and _schemas(pg_url) == {"marts", "meta"}


def test_bad_targets_fail_in_one_line(build: Build, pg_server: PgServer, capsys: pytest.CaptureFixture[str]) -> None:
    for target, message in (
        (pg_server.url(dbname="no_such_database"), "cannot connect to PostgreSQL"),
        (f"postgresql://postgres:secret@127.0.0.1:{pg_server.port + 1}/x", "cannot connect to PostgreSQL"),
        ("mysql://somewhere/db", "--to takes a postgresql:// URL"),
    ):
        assert main(["publish", "--to", target, "--db", str(build.db), "--skip-validate"]) == 1
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and message in err, err
        assert "secret" not in err


def test_a_schema_no_publish_wrote_is_never_swapped_out(
    build: Build, pg_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    _q(pg_url, "create schema meta")
    _q(pg_url, "create table meta.mine (x int)")
    code = main(
        ["publish", "--to", pg_url, "--db", str(build.db), "--dbt-results", str(build.run_results), "--skip-validate"]
    )
    err = capsys.readouterr().err
    assert code == 1 and err.count("\n") == 1 and "schema meta" in err and "not written by lifecycle publish" in err
    assert _schemas(pg_url) == {"meta"} and _q(pg_url, "select count(*) from meta.mine") == [(0,)]


# ---------------------------------------------------------------------------------------------
# The read-only role


def test_the_read_only_role_reads_and_cannot_write(build: Build, pg_url: str, pg_server: PgServer) -> None:
    _publish(build, pg_url)
    _publish(build, pg_url)  # the grants survive the swap, on the live and the previous build
    dbname = pg_url.rsplit("/", 1)[1]
    _q(
        pg_url,
        "do $$ begin if not exists (select from pg_roles where rolname = 'bi_user') then "
        f"create role bi_user login in role {DEFAULT_READER_ROLE}; end if; end $$",
    )
    bi_url = pg_server.url(user="bi_user", dbname=dbname)
    assert _q(bi_url, "select count(*) from marts.customers")[0][0] == _duck_counts(build.db)["customers"]
    assert _q(bi_url, "select count(*) from meta.publish_manifest")[0][0] > 0
    assert _q(bi_url, "select count(*) from marts_previous.customers")[0][0] > 0
    for statement in (
        "delete from marts.customers",
        "update marts.customer_clv set p_alive = 0",
        "insert into meta.publish_manifest (build_id) values ('forged')",
        "create table marts.mine (x int)",
        "drop table marts.customers",
        "alter schema marts rename to gone",
        "create schema mine",
    ):
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            _q(bi_url, statement)
    role = _q(pg_url, "select rolcanlogin, rolsuper from pg_roles where rolname = %s", [DEFAULT_READER_ROLE])
    assert role == [(False, False)]


# ---------------------------------------------------------------------------------------------
# Erasure


def test_a_previous_build_holding_an_erased_customer_is_not_kept(
    build: Build, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import lifecycle.publish.postgres as pgpub

    _publish(build, pg_url)
    erased = str(_q(pg_url, "select min(customer_id) from marts.customers")[0][0])
    monkeypatch.setattr(pgpub.Erasures, "read", classmethod(lambda cls, con: cls([erased])))
    result = publish_postgres(build.db, pg_url, skip_validate=True, dbt_results=build.run_results)
    assert result.previous is None
    assert any("erased" in w for w in result.warnings)
    assert _schemas(pg_url) == {"marts", "meta"}  # the old build, which held the customer, is gone
    # The warehouse was not rebuilt, so the live build still holds the id: again no copy is kept.
    result = publish_postgres(build.db, pg_url, skip_validate=True, dbt_results=build.run_results)
    assert result.previous is None and "marts_previous" not in _schemas(pg_url)


# ---------------------------------------------------------------------------------------------
# The loader and the type map


def test_pg_type_map() -> None:
    assert pg_type("DECIMAL(18,2)") == "numeric(18, 2)"
    assert pg_type("VARCHAR[]") == "text[]"
    assert pg_type("TIMESTAMP WITH TIME ZONE") == "timestamp with time zone"
    assert pg_type("HUGEINT") == "numeric(38, 0)"
    for unsupported in ("BLOB", "STRUCT(a INTEGER)", "MAP(VARCHAR, INTEGER)", "INTEGER[][]"):
        with pytest.raises(PublishError, match="cannot publish"):
            pg_type(unsupported)


def test_loader_keeps_every_value(pg_url: str) -> None:
    src = duckdb.connect()
    src.execute("create schema marts")
    src.execute(
        """
        create table marts.odd (
            id integer primary key, s varchar, d double, ts timestamp, tz timestamp with time zone,
            day date, amount decimal(18, 2), flag boolean, tags varchar[], big hugeint
        )
        """
    )
    src.execute(
        """
        insert into marts.odd values
            (1, 'plain', 1.5, timestamp '2026-01-02 03:04:05.123456', timestamptz '2026-01-02 03:04:05+00',
             date '2026-01-02', 1234567890123456.78, true, ['a', 'b'], 1000000000000000000000000000000),
            (2, '', 'nan', null, null, null, -0.01, false, [], -1),
            (3, null, 'inf', null, null, null, null, null, null, null),
            (4, 'quote " comma , newline
        backslash \\ tab	end', '-inf', null, null, null, 0, null, ['x "y"', null, 'back\\slash', ''], 0),
            (5, 'NULL', 0.1, null, null, null, null, null, ['{}', 'a,b'], null)
        """
    )
    table = read_tables(src, "marts")[0]
    with psycopg.connect(pg_url, autocommit=True) as pg:
        pg.execute("create schema target")
        assert copy_table(src, pg, table, "target") == 5
        got = pg.execute("select id, s, d, ts, tz, day, amount, flag, tags, big from target.odd order by id").fetchall()
    want = src.execute("select * from marts.odd order by id").fetchall()
    assert len(got) == len(want)
    for g, w in zip(got, want, strict=True):
        for a, b in zip(g, w, strict=True):
            if isinstance(b, float) and math.isnan(b):
                assert math.isnan(a)
            elif hasattr(b, "tzinfo") and b.tzinfo is not None:
                assert a == b
            else:
                assert a == b, (g, w)
