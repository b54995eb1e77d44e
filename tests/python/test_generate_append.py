"""Tests for the generator's end date and --append: data up to a date never depends on later dates."""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import json
from pathlib import Path
from typing import Any

import duckdb
import pyarrow.parquet as pq
import pytest

from lifecycle import schema
from lifecycle.generate import END_DATE, HORIZON_DATE, SPECS, START_DATE, generate

SEED = 7
D1 = END_DATE - dt.timedelta(days=1)  # the appends below cross END_DATE: future customers join
DAYS = (D1 + dt.timedelta(days=1), D1 + dt.timedelta(days=3))  # the end dates of two appends
EARLY = dt.date(2025, 6, 30)
EVENT_TABLES = ("web_events", "email_events")
ORDER_TABLES = ("shop_orders", "shop_order_lines", "pos_transactions", "pos_transaction_lines")


def _gen(out: Path, end: dt.date, append: bool = False, **kwargs: Any) -> dict[str, Any]:
    options: dict[str, Any] = {"progress": False, "workers": 1, "end_date": end, "append": append}
    return generate("demo", SEED, out, **(options | kwargs))


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("append")


@pytest.fixture(scope="module")
def fresh(root: Path) -> dict[dt.date, Path]:
    """Folders generated in one go to EARLY, D1, END_DATE and the last append's end date."""
    folders = {}
    for end in (EARLY, D1, END_DATE, DAYS[-1]):
        folders[end] = root / f"fresh-{end}"
        _gen(folders[end], end)
    return folders


def _snapshot(out: Path) -> dict[str, tuple[str, int]]:
    return {
        str(p.relative_to(out)): (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
        for p in sorted(out.glob("*/*.parquet"))
    }


@pytest.fixture(scope="module")
def appended(root: Path) -> tuple[Path, list[dict[str, tuple[str, int]]], dict[str, Any]]:
    """A folder generated to D1, then appended to each of DAYS; its file snapshots before each append."""
    out = root / "appended"
    _gen(out, D1)
    snapshots = [_snapshot(out)]
    manifest: dict[str, Any] = {}
    for end in DAYS:
        manifest = _gen(out, end, append=True)
        snapshots.append(_snapshot(out))
    return out, snapshots, manifest


def _rows(out: Path, table: str, before: dt.date | None = None) -> str:
    sql = f"select * from read_parquet('{out}/{table}/*.parquet')"
    return sql if before is None else f"{sql} where _loaded_at < timestamp '{before + dt.timedelta(days=1)}'"


def _differences(con: duckdb.DuckDBPyConnection, a: str, b: str) -> tuple[int, int]:
    """Rows of a not in b and rows of b not in a, as multisets."""
    row = con.execute(
        f"select (select count(*) from ({a} except all {b})), (select count(*) from ({b} except all {a}))"
    ).fetchone()
    assert row is not None
    return row[0], row[1]


@pytest.mark.parametrize(("early", "late"), [(EARLY, END_DATE), (D1, DAYS[-1])])
def test_rows_up_to_a_date_do_not_depend_on_the_end_date(
    fresh: dict[dt.date, Path], early: dt.date, late: dt.date
) -> None:
    con = duckdb.connect()
    for rt in schema.RAW_TABLES:
        assert _differences(con, _rows(fresh[early], rt.name), _rows(fresh[late], rt.name, early)) == (0, 0), rt.name
    # and nothing loaded later is there
    for rt in schema.RAW_TABLES:
        latest = con.execute(f"select max(_loaded_at) from ({_rows(fresh[early], rt.name)})").fetchone()
        assert latest is not None
        assert latest[0] is None or latest[0] < dt.datetime.combine(early + dt.timedelta(days=1), dt.time()), rt.name


def _count(con: duckdb.DuckDBPyConnection, sql: str) -> int:
    row = con.execute(sql).fetchone()
    assert row is not None
    return int(row[0])


def test_an_earlier_end_date_has_fewer_customers_and_a_later_one_keeps_going(fresh: dict[dt.date, Path]) -> None:
    con = duckdb.connect()
    con.execute("set timezone = 'UTC'")

    def customers(end: dt.date) -> int:
        ids = f"select nullif(trim(customer_id), '') as id from ({_rows(fresh[end], 'crm_customers')})"
        return _count(con, f"select count(distinct id) from ({ids})")

    assert customers(EARLY) < 0.9 * customers(END_DATE)
    assert customers(END_DATE) == 5_000  # the scale's size, as before the end date existed
    assert customers(DAYS[-1]) > customers(END_DATE)  # new sign-ups
    after = f"timestamp '{END_DATE + dt.timedelta(days=1)}'"
    for table, ts in (("shop_orders", "ordered_at"), ("pos_transactions", "transacted_at"), ("web_events", None)):
        col = ts or SPECS[table].ts_col
        sql = f"select count(*) from ({_rows(fresh[DAYS[-1]], table)}) where try_cast({col} as timestamptz) >= {after}"
        assert _count(con, sql) > 0, table
    new = f"select count(*) from ({_rows(fresh[DAYS[-1]], 'crm_customers')}) where customer_id > 'C0005000'"
    assert _count(con, new) > 0


def test_appends_give_the_rows_of_one_generation(
    fresh: dict[dt.date, Path], appended: tuple[Path, list[dict[str, tuple[str, int]]], dict[str, Any]]
) -> None:
    out, snapshots, manifest = appended
    con = duckdb.connect()
    for rt in schema.RAW_TABLES:
        assert _differences(con, _rows(out, rt.name), _rows(fresh[DAYS[-1]], rt.name)) == (0, 0), rt.name
    # earlier files are never rewritten; new ones sort after them
    for before, after in itertools.pairwise(snapshots):
        assert {f: after[f] for f in before} == before
        for table in {f.split("/")[0] for f in after}:
            old = sorted(f for f in before if f.startswith(table + "/"))
            new = sorted(f for f in after if f.startswith(table + "/") and f not in before)
            assert sorted([*old, *new]) == [*old, *new], table
            if old and new:
                latest = _count(
                    con, f"select epoch_us(max(_loaded_at)) from read_parquet({[str(out / f) for f in old]})"
                )
                earliest = _count(
                    con, f"select epoch_us(min(_loaded_at)) from read_parquet({[str(out / f) for f in new]})"
                )
                assert earliest > latest, table
    # the manifest: the same counts as one generation, the folder's files, the append history
    one_go = json.loads((fresh[DAYS[-1]] / "_manifest.json").read_text())
    assert json.loads((out / "_manifest.json").read_text()) == manifest
    for key in set(one_go) - {"tables", "appends"}:
        assert manifest[key] == one_go[key], key
    for name, t in manifest["tables"].items():
        files = sorted((out / name).glob("*.parquet"))
        assert t["files"] == len(files), name
        assert t["rows"] == sum(pq.read_metadata(f).num_rows for f in files) == one_go["tables"][name]["rows"]
    assert [a["end_date"] for a in manifest["appends"]] == [d.isoformat() for d in DAYS]
    assert manifest["end_date"] == DAYS[-1].isoformat()


def _late_and_reloaded(con: duckdb.DuckDBPyConnection, out: Path, table: str, day: dt.date) -> tuple[int, int]:
    """Rows loaded on day: of events dated before it (late), and of keys loaded before it (re-loaded)."""
    key = ", ".join(schema.TABLES[table].key)
    src = f"read_parquet('{out}/{table}/*.parquet')"
    ts = SPECS[table].ts_col
    if ts is None:  # order lines are dated by their order
        parent = "shop_orders" if table == "shop_order_lines" else "pos_transactions"
        parent_key, ts = schema.TABLES[parent].key[0], SPECS[parent].ts_col
        orders = f"select distinct on ({parent_key}) {parent_key}, {ts} from read_parquet('{out}/{parent}/*.parquet')"
        src = f"(select lines.*, orders.{ts} from {src} as lines left join ({orders}) as orders using ({parent_key}))"
    lo, hi = f"timestamp '{day}'", f"timestamp '{day + dt.timedelta(days=1)}'"
    row = con.execute(
        f"""
        with t as (
            select ({key}) as k, _loaded_at,
                   cast(timezone('UTC', try_cast(nullif(trim({ts}), '') as timestamptz)) as date) as event_date
            from {src}
        )
        select count(*) filter (where event_date < date '{day}'),
               count(*) filter (where k in (select k from t where _loaded_at < {lo}))
        from t where _loaded_at >= {lo} and _loaded_at < {hi}
        """
    ).fetchone()
    assert row is not None
    return row[0], row[1]


def test_appended_days_hold_late_and_reloaded_rows(
    appended: tuple[Path, list[dict[str, tuple[str, int]]], dict[str, Any]],
) -> None:
    out, _, _ = appended
    con = duckdb.connect()
    con.execute("set timezone = 'UTC'")
    day = D1 + dt.timedelta(days=1)
    while day <= DAYS[-1]:
        for tables in (EVENT_TABLES, ORDER_TABLES):
            counts = [_late_and_reloaded(con, out, table, day) for table in tables]
            assert sum(late for late, _ in counts) > 0, (day, tables, counts)
            assert sum(reloaded for _, reloaded in counts) > 0, (day, tables, counts)
        day += dt.timedelta(days=1)


def test_refusals(tmp_path: Path, fresh: dict[dt.date, Path]) -> None:
    with pytest.raises(ValueError, match=r"no _manifest\.json"):
        _gen(tmp_path / "empty", DAYS[0], append=True)
    assert not (tmp_path / "empty").exists()
    folder = tmp_path / "copy"
    _gen(folder, D1)
    before = _snapshot(folder)
    for end in (D1, D1 - dt.timedelta(days=1)):
        with pytest.raises(ValueError, match="not after the folder's end date"):
            _gen(folder, end, append=True)
    with pytest.raises(ValueError, match="seed"):
        generate("demo", SEED + 1, folder, progress=False, end_date=DAYS[0], append=True)
    with pytest.raises(ValueError, match="scale"):
        generate("s", SEED, folder, progress=False, end_date=DAYS[0], append=True)
    for outside in (START_DATE - dt.timedelta(days=1), HORIZON_DATE + dt.timedelta(days=1)):
        with pytest.raises(ValueError, match="outside"):
            _gen(folder, outside, append=True)
    assert _snapshot(folder) == before
