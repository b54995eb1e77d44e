"""``lifecycle publish --to postgresql://...``: the validated marts into a PostgreSQL database.

The same audit as the DuckDB serving file (:func:`lifecycle.publish.audit.audit_warehouse`), then:

1. Load every mart into the fresh schemas ``marts_new_<build>`` and ``meta_new_<build>``
   (:func:`lifecycle.publish.pg_load.copy_table`), then its primary key, not-null and unique
   constraints, indexes (:func:`lifecycle.publish.pg_schema.index_columns`), comments (from the
   warehouse catalog), and the manifest ``meta_new_<build>.publish_manifest``; grant usage and
   select to the read-only role (created, without login, when missing); verify row counts.
2. Swap, in ONE transaction: lock the live tables (``access exclusive``: a statement under way
   finishes first, and every later statement sees the new build), drop ``marts_previous`` and
   ``meta_previous``, rename ``marts`` -> ``marts_previous``, ``meta`` -> ``meta_previous`` and
   the new schemas to ``marts`` and ``meta``. A reader sees the old build or the new one, never a
   mix; a pooled connection sees the new build at its next statement (a schema rename invalidates
   every cached plan). A reader holding the live tables in an open transaction delays the swap;
   after ``swap_timeout`` the publish gives up, names it, and leaves ``marts`` untouched.

Any failure before the swap drops the new schemas; a publish killed halfway leaves ``marts``
untouched and its schemas are dropped by the next publish (one publish at a time: a session
advisory lock, released by the server when the publishing process dies). The previous build is
kept for :func:`rollback_postgres` unless it holds a customer erased since
(:class:`lifecycle.publish.privacy.Erasures`): then it is dropped, as for the DuckDB file.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import duckdb
import psycopg
from psycopg import sql

from lifecycle.publish.audit import audit_warehouse, results_invocation_id
from lifecycle.publish.catalog import Table, read_tables
from lifecycle.publish.errors import PublishError
from lifecycle.publish.files import PAUSE_BEFORE_RENAME, PAUSE_DURING_COPY, pause
from lifecycle.publish.pg_load import copy_table
from lifecycle.publish.pg_schema import (
    constraint_sql,
    ensure_role_sql,
    grant_sql,
    manifest_create_sql,
    manifest_insert_sql,
    qualified,
)
from lifecycle.publish.privacy import Erasures
from lifecycle.publish.run import PublishResult
from lifecycle.publish.serving import MANIFEST_SCHEMA, MANIFEST_TABLE, manifest_rows
from lifecycle.publish.source import audit_inputs, check_warehouse, new_manifest, open_read_only
from lifecycle.validation_report import MARTS_SCHEMA

SERVING_URL_ENV = "LIFECYCLE_SERVING_URL"
READER_ROLE_ENV = "LIFECYCLE_SERVING_ROLE"
DEFAULT_READER_ROLE = "lifecycle_reader"
LIVE_SCHEMAS = (MARTS_SCHEMA, MANIFEST_SCHEMA)  # swapped together
PREVIOUS_SUFFIX = "_previous"
NEW_INFIX = "_new_"
LOCK_KEY = "lifecycle publish"  # the advisory lock of one publish (or rollback) at a time
LOCK_WAIT = "5s"
SWAP_ATTEMPT_TIMEOUT = "500ms"  # how long one attempt of the swap waits for its locks (see _swap)
SWAP_RETRY_PAUSE = 0.5  # seconds between attempts: the readers queued behind one go first
DEFAULT_SWAP_TIMEOUT = 60.0
SCHEMA_MARK = "lifecycle publish:"  # the comment on every schema a publish writes
INDEX_BUILD_MEMORY = "256MB"  # the load session's maintenance_work_mem (the server default is 64MB)


def is_postgres_url(target: str) -> bool:
    return target.startswith(("postgresql://", "postgres://"))


def redacted(url: str) -> str:
    """The URL without its password (for messages and the manifest)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return urlunsplit(parts._replace(netloc=netloc))


def new_schemas(build_id: str) -> dict[str, str]:
    """Live schema -> the schema a build is loaded into (lowercase: no quoting needed to read it)."""
    suffix = build_id.lower().replace("-", "_")
    return {live: f"{live}{NEW_INFIX}{suffix}" for live in LIVE_SCHEMAS}


def first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def connect(url: str) -> psycopg.Connection:
    try:
        return psycopg.connect(url, autocommit=True, application_name="lifecycle publish")
    except psycopg.Error as exc:
        raise PublishError(f"cannot connect to PostgreSQL at {redacted(url)}: {first_line(exc)}") from exc


@contextlib.contextmanager
def publish_lock(pg: psycopg.Connection, url: str) -> Iterator[None]:
    """One publish or rollback at a time per database (a session lock: it dies with the process)."""
    # A few seconds of patience: the server ends the session of a publish killed a moment ago
    # (and frees its lock) as soon as it notices the connection is gone.
    try:
        with pg.transaction():
            pg.execute(f"set local lock_timeout = '{LOCK_WAIT}'")
            pg.execute("select pg_advisory_lock(hashtext(%s))", [LOCK_KEY])
    except psycopg.errors.LockNotAvailable as exc:
        raise PublishError(f"another publish to {redacted(url)} is running (advisory lock '{LOCK_KEY}')") from exc
    try:
        yield
    finally:
        with contextlib.suppress(psycopg.Error):
            pg.execute("select pg_advisory_unlock(hashtext(%s))", [LOCK_KEY])


def _schemas(pg: psycopg.Connection) -> set[str]:
    return {r[0] for r in pg.execute("select nspname from pg_namespace").fetchall()}


def _drop_schemas(pg: psycopg.Connection, names: list[str]) -> None:
    for name in names:
        pg.execute(sql.SQL("drop schema if exists {} cascade").format(sql.Identifier(name)))


def remove_leftovers(pg: psycopg.Connection) -> list[str]:
    """Drop the schemas of a publish that was killed before its swap; return their names."""
    stale = sorted(s for s in _schemas(pg) if any(s.startswith(live + NEW_INFIX) for live in LIVE_SCHEMAS))
    _drop_schemas(pg, stale)
    return stale


def check_ours(pg: psycopg.Connection, url: str) -> None:
    """Refuse to swap out a ``marts`` or ``meta`` schema that no lifecycle publish wrote."""
    for live in LIVE_SCHEMAS:
        row = pg.execute(
            "select obj_description(oid, 'pg_namespace') from pg_namespace where nspname = %s", [live]
        ).fetchone()
        if row is not None and not str(row[0] or "").startswith(SCHEMA_MARK):
            raise PublishError(
                f"schema {live} of {redacted(url)} was not written by lifecycle publish (its comment does not "
                f"begin '{SCHEMA_MARK}'): publish to another database, or drop or rename that schema"
            )


def _live_tables(pg: psycopg.Connection, schemas: list[str]) -> list[str]:
    rows = pg.execute(
        "select quote_ident(n.nspname) || '.' || quote_ident(c.relname) from pg_class c "
        "join pg_namespace n on n.oid = c.relnamespace where n.nspname = any(%s) and c.relkind in ('r', 'p', 'v', 'm') "
        "order by 1",
        [schemas],
    ).fetchall()
    return [r[0] for r in rows]


def _blockers(pg: psycopg.Connection, schemas: list[str]) -> str:
    """Who holds the live tables: pid, user, application, state (for the error message)."""
    rows = pg.execute(
        "select distinct a.pid, a.usename, a.application_name, a.state, "
        "extract(epoch from now() - a.state_change)::int from pg_locks l "
        "join pg_class c on c.oid = l.relation join pg_namespace n on n.oid = c.relnamespace "
        "join pg_stat_activity a on a.pid = l.pid "
        "where n.nspname = any(%s) and l.granted and a.pid <> pg_backend_pid() order by 1",
        [schemas],
    ).fetchall()
    if not rows:
        return "no session holds them now"
    return "; ".join(
        f"pid {pid} (user {user}, application '{app}', {state} for {secs}s)" for pid, user, app, state, secs in rows
    )


def _rename(pg: psycopg.Connection, old: str, new: str) -> None:
    pg.execute(sql.SQL("alter schema {} rename to {}").format(sql.Identifier(old), sql.Identifier(new)))


def _swap(pg: psycopg.Connection, url: str, moves: list[tuple[str, str | None]], timeout: float) -> None:
    """Run the schema ``moves`` (rename ``a`` to ``b``; ``b`` None: drop ``a``) in one transaction
    once the live tables are locked; retry while readers hold them, for ``timeout`` seconds.

    Each attempt waits at most :data:`SWAP_ATTEMPT_TIMEOUT` for its locks, then lets go of those
    it got: a reader queued behind it waits no longer than that, and never long enough for
    PostgreSQL's deadlock check (``deadlock_timeout``, 1 s by default) to cancel a reader whose
    statement locks the marts in another order.
    """
    deadline = time.monotonic() + timeout
    while True:
        try:
            with pg.transaction():
                tables = _live_tables(pg, list(LIVE_SCHEMAS))
                if tables:
                    pg.execute(f"set local statement_timeout = '{SWAP_ATTEMPT_TIMEOUT}'")
                    pg.execute(f"lock table {', '.join(tables)} in access exclusive mode")
                    pg.execute("set local statement_timeout = 0")
                for old, new in moves:
                    if new is None:
                        _drop_schemas(pg, [old])
                    else:
                        _rename(pg, old, new)
            return
        except (psycopg.errors.QueryCanceled, psycopg.errors.LockNotAvailable, psycopg.errors.DeadlockDetected) as exc:
            if time.monotonic() >= deadline:
                raise PublishError(
                    f"gave up after {timeout:.0f}s waiting for the readers of schema {MARTS_SCHEMA} of "
                    f"{redacted(url)} ({_blockers(pg, list(LIVE_SCHEMAS))}): end their open transactions "
                    "(or raise --swap-timeout); marts is unchanged"
                ) from exc
            time.sleep(SWAP_RETRY_PAUSE)


def _customers_held(pg: psycopg.Connection, schema: str, customer_ids: list[str]) -> int:
    """How many of ``customer_ids`` the published schema still lists in its customers mart."""
    present = pg.execute(
        "select 1 from information_schema.tables where table_schema = %s and table_name = 'customers'", [schema]
    ).fetchone()
    if not customer_ids or not present:
        return 0
    row = pg.execute(
        sql.SQL("select count(*) from {} where customer_id = any(%s)").format(sql.Identifier(schema, "customers")),
        [customer_ids],
    ).fetchone()
    return int(row[0]) if row else 0


def _load(
    src: duckdb.DuckDBPyConnection,
    pg: psycopg.Connection,
    tables: list[Table],
    target: dict[str, str],
    note: str,
    phases: dict[str, float],
) -> dict[str, int]:
    marts, meta = target[MARTS_SCHEMA], target[MANIFEST_SCHEMA]
    for schema in (marts, meta):
        pg.execute(sql.SQL("create schema {}").format(sql.Identifier(schema)))
        pg.execute(sql.SQL("comment on schema {} is {}").format(sql.Identifier(schema), sql.Literal(note)))
    counts: dict[str, int] = {}
    t0 = time.perf_counter()
    for i, table in enumerate(tables):
        counts[table.name] = copy_table(src, pg, table, marts)
        if i == 0:
            pause(PAUSE_DURING_COPY, "during the copy")
    phases["copy"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    for table in tables:
        with pg.transaction():
            for statement in constraint_sql(table, marts):
                pg.execute(statement)
    phases["keys, indexes, comments, analyze"] = time.perf_counter() - t0
    return counts


def _grant(pg: psycopg.Connection, role: str, schemas: list[str]) -> None:
    try:
        pg.execute(ensure_role_sql(role))
    except psycopg.errors.InsufficientPrivilege as exc:
        raise PublishError(
            f"cannot create the read-only role {role} ({exc.diag.message_primary}): create it "
            f"(create role {role} nologin) or name an existing one with --reader-role"
        ) from exc
    for statement in grant_sql(role, schemas):
        pg.execute(statement)


def _verify(pg: psycopg.Connection, target: dict[str, str], counts: dict[str, int], build_id: str) -> None:
    for name, expected in counts.items():
        row = pg.execute(f"select count(*) from {qualified(target[MARTS_SCHEMA], name)}").fetchone()
        if row is None or row[0] != expected:
            raise PublishError(f"verification: {target[MARTS_SCHEMA]}.{name} has {row} rows, the warehouse {expected}")
    ids = pg.execute(f"select distinct build_id from {qualified(target[MANIFEST_SCHEMA], MANIFEST_TABLE)}").fetchall()
    if ids != [(build_id,)]:
        raise PublishError(f"verification: the new manifest holds build ids {ids}, expected {build_id}")


def publish_postgres(
    db_path: Path,
    url: str,
    *,
    reader_role: str | None = None,
    skip_validate: bool = False,
    dbt_results: Path | None = None,
    reports_dir: Path | None = None,
    swap_timeout: float = DEFAULT_SWAP_TIMEOUT,
) -> PublishResult:
    """Audit the working warehouse ``db_path`` and, when it passes, publish its marts to schema
    ``marts`` of the PostgreSQL database at ``url``. Raises :class:`PublishError` (``marts``
    untouched) when the audit, the load or the swap fails."""
    started = time.perf_counter()
    db_path = check_warehouse(db_path)
    role = reader_role or os.environ.get(READER_ROLE_ENV) or DEFAULT_READER_ROLE
    results_path, reports = audit_inputs(db_path, dbt_results, reports_dir)
    warnings: list[str] = []
    phases: dict[str, float] = {}
    pg = connect(url)
    try:
        with publish_lock(pg, url):
            check_ours(pg, url)
            stale = remove_leftovers(pg)
            if stale:
                warnings.append(f"removed leftovers of an interrupted publish: {', '.join(stale)}")
            results_id = results_invocation_id(results_path)
            src = open_read_only(db_path)
            try:
                audit = audit_warehouse(src, db_path, results_path, results_id, reports, skip_validate=skip_validate)
                warnings.extend(audit.warnings)
                manifest = new_manifest(src, db_path, audit)
                build_id = manifest["build_id"]
                erasures = Erasures.read(src)
                published = set(audit.tables)
                tables = [t for t in read_tables(src, MARTS_SCHEMA) if t.name in published]
                target = new_schemas(build_id)
                try:
                    pg.execute("set synchronous_commit = off")  # the swap's commit makes it all durable
                    pg.execute(f"set maintenance_work_mem = '{INDEX_BUILD_MEMORY}'")  # keys and indexes
                    note = f"{SCHEMA_MARK} build {build_id}, as of {manifest['as_of_date']}"
                    counts = _load(src, pg, tables, target, note, phases)
                    src.close()
                    with pg.transaction():
                        pg.execute(manifest_create_sql(target[MANIFEST_SCHEMA]))
                        with pg.cursor() as cur:
                            cur.executemany(
                                manifest_insert_sql(target[MANIFEST_SCHEMA]),
                                manifest_rows(manifest, audit.checks, counts),
                            )
                    _grant(pg, role, list(target.values()))
                    _verify(pg, target, counts, build_id)
                    pg.execute("set synchronous_commit = on")
                    pause(PAUSE_BEFORE_RENAME, "before the rename")
                    held = _customers_held(pg, MARTS_SCHEMA, erasures.customer_ids)
                    keep_current = MARTS_SCHEMA in _schemas(pg) and not held
                    if held:
                        warnings.append(
                            f"schema {MARTS_SCHEMA} holds {held} customer(s) erased since it was published: "
                            "it is not kept for rollback"
                        )
                    t0 = time.perf_counter()
                    _swap(pg, url, _publish_moves(_schemas(pg), target, keep_current), swap_timeout)
                    phases["swap"] = time.perf_counter() - t0
                except BaseException as exc:
                    with contextlib.suppress(psycopg.Error):
                        _drop_schemas(pg, list(target.values()))
                    if isinstance(exc, PublishError):
                        raise
                    if isinstance(exc, psycopg.Error | duckdb.Error):
                        raise PublishError(
                            f"publish to {redacted(url)} failed, marts is unchanged: {first_line(exc)}"
                        ) from exc
                    raise
            finally:
                with contextlib.suppress(duckdb.Error):
                    src.close()
    finally:
        pg.close()
    return PublishResult(
        serving=redacted(url),
        previous=MARTS_SCHEMA + PREVIOUS_SUFFIX if keep_current else None,
        build_id=build_id,
        as_of_date=manifest["as_of_date"],
        published_at=manifest["published_at"],
        row_counts=counts,
        dbt=audit.dbt,
        validation=audit.validation,
        elapsed_seconds=time.perf_counter() - started,
        warnings=warnings,
        phases=phases,
    )


def _publish_moves(existing: set[str], target: dict[str, str], keep_current: bool) -> list[tuple[str, str | None]]:
    moves: list[tuple[str, str | None]] = []
    for live, new in target.items():
        previous = live + PREVIOUS_SUFFIX
        if previous in existing:
            moves.append((previous, None))
        if live in existing:
            moves.append((live, previous if keep_current else None))
        moves.append((new, live))
    return moves


def build_id_in(pg: psycopg.Connection, schema: str) -> str:
    """The build id the manifest in ``schema`` names (``unknown build`` when it names none)."""
    try:
        row = pg.execute(f"select min(build_id) from {qualified(schema, MANIFEST_TABLE)}").fetchone()
    except psycopg.Error:
        return "unknown build"
    return str(row[0]) if row and row[0] else "unknown build"


def rollback_postgres(url: str, *, swap_timeout: float = DEFAULT_SWAP_TIMEOUT) -> str:
    """Swap ``marts``/``meta`` with ``marts_previous``/``meta_previous`` (a second rollback rolls forward)."""
    pg = connect(url)
    try:
        with publish_lock(pg, url):
            check_ours(pg, url)
            existing = _schemas(pg)
            missing = [s + PREVIOUS_SUFFIX for s in LIVE_SCHEMAS if s + PREVIOUS_SUFFIX not in existing]
            if missing:
                raise PublishError(
                    f"no previous build to roll back to in {redacted(url)} ({', '.join(missing)} missing)"
                )
            restored = build_id_in(pg, MANIFEST_SCHEMA + PREVIOUS_SUFFIX)
            replaced = build_id_in(pg, MANIFEST_SCHEMA) if MANIFEST_SCHEMA in existing else None
            moves: list[tuple[str, str | None]] = []
            for live in LIVE_SCHEMAS:
                previous, parked = live + PREVIOUS_SUFFIX, f"{live}_rollback"
                if live in existing:
                    moves += [(live, parked), (previous, live), (parked, previous)]
                else:
                    moves.append((previous, live))
            _swap(pg, url, moves, swap_timeout)
    finally:
        pg.close()
    if replaced is None:
        return f"Restored {restored} to {redacted(url)}"
    return (
        f"Rolled back {redacted(url)}: now serving {restored}; {replaced} kept as "
        f"{MARTS_SCHEMA}{PREVIOUS_SUFFIX}, {MANIFEST_SCHEMA}{PREVIOUS_SUFFIX}"
    )


def read_pg_manifest(url: str, schema: str = MANIFEST_SCHEMA) -> list[dict[str, Any]]:
    """The publish manifest in ``schema`` of the database at ``url``, one dict per mart."""
    pg = connect(url)
    try:
        cur = pg.execute(f"select * from {qualified(schema, MANIFEST_TABLE)} order by mart")
        names = [d.name for d in cur.description or []]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
    finally:
        pg.close()
