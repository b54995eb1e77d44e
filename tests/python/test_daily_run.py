"""The daily run: incremental builds after new days of raw data land equal a full refresh.

A demo data set (seed 42) is split by `_loaded_at` the way a daily export arrives: day 0 holds the
rows loaded before DAY_1, and each later day adds one new part file per table with the rows loaded
that day (the last one everything loaded since), which brings late rows (old events loaded now)
and re-loaded keys. The warehouse is built on day 0, then `dbt build` runs incrementally after each
appended day; a `--full-refresh` build of the same folder into a second warehouse must then have
the same marts and the same staging tables, row for row (batch columns aside).
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from types import ModuleType

import duckdb
import pytest
from conftest import run_dbt

from lifecycle import paths
from lifecycle.generate import generate
from lifecycle.schema import RAW_TABLES

pytestmark = pytest.mark.slow

DAY_1 = date(2026, 9, 27)
APPENDED_DAYS = 3
BATCH_COLUMNS = ("_batch_at", "_batch_fingerprint")
# Raw tables with the column dating each event and the raw key, to count late and re-loaded rows.
EVENTS = {
    "web_events": ("occurred_at", "event_id"),
    "email_events": ("occurred_at", "event_id"),
    "shop_orders": ("ordered_at", "order_id"),
    "pos_transactions": ("transacted_at", "transaction_id"),
    "store_visits": ("visited_at", "visit_id"),
}


def _compare_marts() -> ModuleType:
    spec = importlib.util.spec_from_file_location("compare_marts", paths.PROJECT_ROOT / "scripts" / "compare_marts.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _parquet(folder: Path) -> str:
    return f"read_parquet('{folder}/*.parquet', union_by_name = true)"


def _write_loads(con: duckdb.DuckDBPyConnection, full: Path, raw: Path, part: int, since: date | None,
                 until: date | None) -> None:
    """One new part file per raw table with the rows of `full` loaded in [since, until)."""
    for table in (raw_table.name for raw_table in RAW_TABLES):
        conditions = [f"_loaded_at >= timestamp '{since}'" if since else "true",
                      f"_loaded_at < timestamp '{until}'" if until else "true"]
        folder = raw / table
        folder.mkdir(parents=True, exist_ok=True)
        con.execute(
            f"copy (select * from {_parquet(full / table)} where {' and '.join(conditions)}) "
            f"to '{folder}/part-{part:05d}.parquet' (format parquet)"
        )


def _count_late_and_reloaded(con: duckdb.DuckDBPyConnection, raw: Path, since: date) -> tuple[int, int]:
    """Rows loaded on or after `since` that are late (their event a day or more before) and that
    re-load a key loaded before."""
    late = reloaded = 0
    for table, (event_column, key) in EVENTS.items():
        new_late, new_reloaded = con.execute(
            f"""
            with loads as (select * from {_parquet(raw / table)})
            select
                count(*) filter (where try_cast({event_column} as timestamptz) < timestamp '{since}' - interval 1 day),
                count(*) filter (
                    where trim({key}) in (select trim({key}) from loads where _loaded_at < timestamp '{since}')
                )
            from loads
            where _loaded_at >= timestamp '{since}'
            """
        ).fetchone()
        late, reloaded = late + new_late, reloaded + new_reloaded
    return late, reloaded


def _incremental_models(db: Path) -> list[str]:
    """The staging tables with batch columns: the incremental ones."""
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute(
            "select table_name from information_schema.columns"
            " where table_schema = 'staging' and column_name = ? order by table_name",
            [BATCH_COLUMNS[0]],
        ).fetchall()
    return [table for (table,) in rows]


@dataclass(frozen=True)
class DailyRuns:
    raw: Path
    incremental_db: Path
    full_db: Path
    late_rows: int
    reloaded_rows: int
    # Per appended day and incremental model: (rows of the run's batch, rows loaded at or after
    # the table's latest load before the run, rows of the table).
    batches: list[dict[str, tuple[int, int, int]]]


def _build(raw: Path, db: Path, *args: str) -> None:
    result = run_dbt(raw, db, "build", *args)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]


def _latest_loads(db: Path, models: list[str]) -> dict[str, str]:
    with duckdb.connect(str(db), read_only=True) as con:
        return {
            model: con.execute(f"select cast(max(_loaded_at) as varchar) from staging.{model}").fetchone()[0]
            for model in models
        }


def _batches(db: Path, latest_before: dict[str, str]) -> dict[str, tuple[int, int, int]]:
    with duckdb.connect(str(db), read_only=True) as con:
        return {
            model: con.execute(
                f"""
                select
                    count(*) filter (where _batch_at = (select max(_batch_at) from staging.{model})),
                    count(*) filter (where _loaded_at >= timestamp '{latest}'),
                    count(*)
                from staging.{model}
                """
            ).fetchone()
            for model, latest in latest_before.items()
        }


@pytest.fixture(scope="module")
def daily_runs(tmp_path_factory: pytest.TempPathFactory) -> DailyRuns:
    tmp = tmp_path_factory.mktemp("daily")
    full, raw = tmp / "generated", tmp / "raw"
    generate(scale="demo", seed=42, out=full, progress=False)
    incremental_db = tmp / "incremental" / "lifecycle.duckdb"
    incremental_db.parent.mkdir()
    with duckdb.connect() as con:
        _write_loads(con, full, raw, 0, None, DAY_1)
        _build(raw, incremental_db)
        models = _incremental_models(incremental_db)
        batches = []
        for day in range(1, APPENDED_DAYS + 1):
            since = DAY_1 + timedelta(days=day - 1)
            until = since + timedelta(days=1) if day < APPENDED_DAYS else None
            _write_loads(con, full, raw, day, since, until)
            latest_before = _latest_loads(incremental_db, models)
            _build(raw, incremental_db)
            batches.append(_batches(incremental_db, latest_before))
        late, reloaded = _count_late_and_reloaded(con, raw, DAY_1)
    full_db = tmp / "full" / "lifecycle.duckdb"
    full_db.parent.mkdir()
    _build(raw, full_db, "--full-refresh")
    return DailyRuns(raw, incremental_db, full_db, late, reloaded, batches)


def test_appended_days_bring_late_and_reloaded_rows(daily_runs: DailyRuns) -> None:
    assert daily_runs.late_rows > 0
    assert daily_runs.reloaded_rows > 0


def test_incremental_runs_staged_only_the_new_loads(daily_runs: DailyRuns) -> None:
    models = _incremental_models(daily_runs.incremental_db)
    assert "stg_web__events" in models and "stg_shop__order_lines" in models
    assert len(daily_runs.batches) == APPENDED_DAYS
    for day, batches in enumerate(daily_runs.batches, start=1):
        assert set(batches) == set(models)
        for model, (batch_rows, rows_since_latest_load, table_rows) in batches.items():
            # The run's batch is exactly the rows loaded at or after the table's latest load.
            assert batch_rows == rows_since_latest_load, (day, model)
            assert 0 < batch_rows < table_rows, (day, model, batch_rows, table_rows)


def test_marts_equal_a_full_refresh(daily_runs: DailyRuns) -> None:
    compare = _compare_marts().compare
    report = compare(daily_runs.full_db, daily_runs.incremental_db, "marts", 1e-9,
                     ["clv_model_parameters.fit_seconds"])
    assert report == []


def test_staging_tables_equal_a_full_refresh(daily_runs: DailyRuns) -> None:
    compare = _compare_marts().compare
    models = _incremental_models(daily_runs.incremental_db)
    ignore = [f"{model}.{column}" for model in models for column in BATCH_COLUMNS]
    assert compare(daily_runs.full_db, daily_runs.incremental_db, "staging", 1e-9, ignore) == []


def test_a_changed_staging_var_asks_for_a_full_refresh(daily_runs: DailyRuns) -> None:
    """Money is converted when a row is staged: another reporting currency stops the incremental run
    (before it writes anything) instead of mixing currencies in one table."""
    result = run_dbt(daily_runs.raw, daily_runs.incremental_db, "run", "--select", "stg_shop__orders",
                     "--vars", "{reporting_currency: EUR}")
    assert result.returncode != 0
    assert "run with --full-refresh" in result.stdout
