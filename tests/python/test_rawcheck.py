"""Tests for lifecycle.rawcheck: raw files are checked against the landing contract."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lifecycle import schema
from lifecycle.rawcheck import CORE_TABLES, RawDataError, check_raw_dir

_SAMPLE = {
    pa.string(): "x",
    pa.int32(): 1,
    pa.float64(): 1.5,
    pa.bool_(): True,
    schema.TS: dt.datetime(2024, 1, 1, 2, 0),
}


def _table(rt: schema.RawTable, rows: int) -> pa.Table:
    return pa.table({n: pa.array([_SAMPLE[t]] * rows, type=t) for n, t in rt.columns}, schema=rt.arrow_schema)


@pytest.fixture
def raw(tmp_path: Path) -> Path:
    """A valid raw dir: one row in each core table, an empty-but-valid file for the others."""
    root = tmp_path / "raw"
    for rt in schema.RAW_TABLES:
        (root / rt.name).mkdir(parents=True)
        pq.write_table(_table(rt, 1 if rt.name in CORE_TABLES else 0), root / rt.name / "part-0.parquet")
    return root


def _replace(raw: Path, table: pa.Table, name: str) -> None:
    for f in (raw / name).glob("*.parquet"):
        f.unlink()
    pq.write_table(table, raw / name / "part-0.parquet")


def _error(raw: Path) -> str:
    with pytest.raises(RawDataError) as err:
        check_raw_dir(raw)
    return str(err.value)


def test_valid_raw_dir(raw: Path) -> None:
    start = time.perf_counter()
    report = check_raw_dir(raw)
    assert time.perf_counter() - start < 1.0
    assert set(report["tables"]) == set(schema.TABLES)
    assert report["tables"]["shop_orders"] == {"rows": 1, "files": 1}
    assert report["tables"]["product_reviews"] == {"rows": 0, "files": 1}
    assert any(w.startswith("product_reviews:") and "empty" in w for w in report["warnings"])


def test_missing_raw_dir(tmp_path: Path) -> None:
    assert "does not exist" in _error(tmp_path / "nowhere")


def test_missing_table_folder(raw: Path) -> None:
    for f in (raw / "web_events").iterdir():
        f.unlink()
    (raw / "web_events").rmdir()
    msg = _error(raw)
    assert "web_events: table folder is missing" in msg


def test_folder_without_parquet(raw: Path) -> None:
    (raw / "referrals" / "part-0.parquet").unlink()
    assert "referrals: no .parquet files" in _error(raw)


def test_renamed_column(raw: Path) -> None:
    rt = schema.TABLES["crm_customers"]
    table = _table(rt, 1).rename_columns(["e_mail" if n == "email" else n for n in rt.column_names])
    _replace(raw, table, "crm_customers")
    msg = _error(raw)
    assert "crm_customers.email: column is missing" in msg
    assert "renamed? found 'e_mail'" in msg


def test_extra_column_is_a_warning(raw: Path) -> None:
    rt = schema.TABLES["shop_orders"]
    table = _table(rt, 1).append_column("note", pa.array(["hi"]))
    _replace(raw, table, "shop_orders")
    report = check_raw_dir(raw)
    assert any("shop_orders.note: unexpected column" in w for w in report["warnings"])


def test_wrong_type(raw: Path) -> None:
    rt = schema.TABLES["shop_order_lines"]
    table = _table(rt, 1)
    i = rt.column_names.index("order_id")
    table = table.set_column(i, pa.field("order_id", pa.int64()), pa.array([7], type=pa.int64()))
    _replace(raw, table, "shop_order_lines")
    msg = _error(raw)
    assert "shop_order_lines.order_id: expected type string, found int64" in msg


def test_empty_core_table_is_an_error(raw: Path) -> None:
    _replace(raw, _table(schema.TABLES["shop_orders"], 0), "shop_orders")
    assert "shop_orders: table is empty" in _error(raw)


def test_corrupt_parquet(raw: Path) -> None:
    (raw / "marketing_spend" / "part-1.parquet").write_bytes(b"this is not parquet at all")
    msg = _error(raw)
    assert "marketing_spend: cannot read Parquet file part-1.parquet" in msg


def test_parts_must_share_schema(raw: Path) -> None:
    rt = schema.TABLES["shop_orders"]
    other = _table(rt, 1).append_column("note", pa.array(["hi"]))
    pq.write_table(other, raw / "shop_orders" / "part-1.parquet")
    assert "shop_orders: part files have different schemas: part-0.parquet vs part-1.parquet" in _error(raw)


def test_all_problems_listed_one_per_line(raw: Path) -> None:
    (raw / "store_visits" / "part-0.parquet").unlink()
    _replace(raw, _table(schema.TABLES["crm_customers"], 0), "crm_customers")
    msg = _error(raw)
    problems = [line for line in msg.splitlines() if line.startswith("  - ")]
    assert len(problems) == 2
    assert any("store_visits" in p for p in problems) and any("crm_customers" in p for p in problems)
