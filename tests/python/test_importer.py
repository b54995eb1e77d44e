"""Tests for lifecycle.importer: a transaction export becomes the raw tables."""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from lifecycle import schema
from lifecycle.importer import ImportError_, import_transactions
from lifecycle.rawcheck import check_raw_dir


def _cdnow_path() -> Path:
    spec = importlib.util.find_spec("lifetimes")  # locate the file without importing lifetimes
    if spec is None or spec.origin is None:
        pytest.skip("lifetimes is not installed")
    path = Path(spec.origin).parent / "datasets" / "CDNOW_sample.txt"
    if not path.exists():
        pytest.skip("CDNOW_sample.txt not shipped with lifetimes")
    return path


def _read(out: Path, table: str) -> pd.DataFrame:
    return pq.read_table(out / table).to_pandas()


def _write(tmp_path: Path, text: str, name: str = "tx.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# ----------------------------------------------------------------------------- CDNOW


@pytest.fixture(scope="module")
def cdnow(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict]:
    path = _cdnow_path()
    out = tmp_path_factory.mktemp("cdnow_raw")
    summary = import_transactions(
        path,
        out=out,
        customer_col="col1",
        date_col="col3",
        amount_col="col5",
        date_format="%Y%m%d",
        delimiter="whitespace",
        no_header=True,
    )
    return path, out, summary


def test_cdnow_counts(cdnow: tuple[Path, Path, dict]) -> None:
    path, out, summary = cdnow
    ref = pd.read_csv(path, sep=r"\s+", header=None, dtype=str, names=["cust", "sample", "day", "cds", "usd"])
    expected_orders = ref.groupby(["cust", "day"]).ngroups

    assert summary["rows_read"] == len(ref) == 6919
    assert summary["customers"] == ref["cust"].nunique() == 2357
    assert summary["orders"] == expected_orders
    assert summary["lines"] == len(ref)
    assert summary["rows_rejected"] == 0
    assert summary["date_range"] == {"first": "1997-01-01 00:00:00", "last": "1998-06-30 00:00:00"}

    customers = _read(out, "crm_customers")
    orders = _read(out, "shop_orders")
    lines = _read(out, "shop_order_lines")
    assert len(customers) == 2357 and customers["customer_id"].is_unique
    assert set(customers["customer_id"]) == set(ref["cust"])  # ids kept verbatim, leading zeros included
    assert len(orders) == expected_orders and orders["order_id"].is_unique
    assert len(lines) == len(ref) and lines["order_line_id"].is_unique
    assert set(lines["order_id"]) == set(orders["order_id"])
    assert lines["unit_price"].astype(float).sum() == pytest.approx(ref["usd"].astype(float).sum())
    assert (lines["unit_price"] == "0.00").sum() == (ref["usd"].astype(float) == 0).sum()  # zeros kept
    assert set(orders["status"]) == {"completed"}

    first = ref.assign(day=pd.to_datetime(ref["day"], format="%Y%m%d")).groupby("cust")["day"].min()
    signup = customers.set_index("customer_id")["signup_at"]
    assert signup.loc["00004"] == first.loc["00004"].strftime("%Y-%m-%d 00:00:00")
    assert (customers["signup_at"] == customers["updated_at"]).all()
    assert (customers["email"] == customers["customer_id"] + "@import.invalid").all()
    assert customers["first_name"].isna().all() and customers["last_name"].isna().all()
    assert set(customers["acquisition_channel"]) == {"unknown"}
    assert not customers["marketing_consent"].any()


def test_cdnow_layout_schema_and_manifest(cdnow: tuple[Path, Path, dict]) -> None:
    path, out, _ = cdnow
    manifest = json.loads((out / "_manifest.json").read_text())
    assert manifest["source"] == "import"
    assert manifest["file"] == str(path.resolve())
    assert manifest["injected"] == {}
    assert set(manifest["tables"]) == {t.name for t in schema.RAW_TABLES}
    for rt in schema.RAW_TABLES:
        files = list((out / rt.name).glob("*.parquet"))
        assert len(files) == 1
        pf = pq.ParquetFile(files[0])
        assert pf.schema_arrow.equals(rt.arrow_schema), rt.name
        assert manifest["tables"][rt.name] == {"rows": pf.metadata.num_rows, "files": 1}
    loaded = pq.read_table(out / "shop_orders", columns=["_loaded_at"]).column(0).unique().to_pylist()
    assert loaded == [dt.datetime(1998, 7, 1, 2, 0)]
    # the output satisfies the landing contract checked before dbt runs
    report = check_raw_dir(out)
    assert report["tables"]["shop_order_lines"]["rows"] == 6919


# ----------------------------------------------------------------------------- hand-written CSV

SMALL = """order_no,Customer,Date,Amount
A1,c-1,2024-03-01 10:15:00,"$1,200.50"
A1,c-1,2024-03-01 10:15:00,$10
A2,c-2,2024-03-02,-$25.00
A3,c-1,2024-03-05 08:00:00,0
A4,c 3,2024-03-04,19.999
"""


def test_small_csv_with_order_ids(tmp_path: Path) -> None:
    out = tmp_path / "raw"
    summary = import_transactions(
        _write(tmp_path, SMALL),
        out=out,
        customer_col="Customer",
        date_col="Date",
        amount_col="Amount",
        order_id_col="order_no",
        currency="eur",
    )
    assert summary["customers"] == 3
    assert summary["orders"] == 4
    assert summary["lines"] == 5
    assert summary["returned_lines"] == 1

    orders = _read(out, "shop_orders").set_index("order_id")
    assert list(orders.index) == ["A1", "A2", "A4", "A3"]  # by ordered_at
    assert orders.loc["A1", "customer_id"] == "c-1"
    assert orders.loc["A1", "ordered_at"] == "2024-03-01 10:15:00"
    assert orders.loc["A2", "ordered_at"] == "2024-03-02 00:00:00"
    assert orders.loc["A2", "status"] == "returned"
    assert orders.loc["A3", "status"] == "completed"  # zero amount kept
    assert set(orders["currency"]) == {"EUR"} and set(orders["channel"]) == {"web"}
    assert set(orders["discount_amount"]) == set(orders["tax_amount"]) == {"0.00"}

    lines = _read(out, "shop_order_lines").set_index("order_line_id")
    assert list(lines.index) == ["A1-1", "A1-2", "A2-1", "A4-1", "A3-1"]
    assert lines.loc["A1-1", "unit_price"] == "1200.50"
    assert lines.loc["A1-2", "unit_price"] == "10.00"
    assert lines.loc["A2-1", "unit_price"] == "25.00"  # absolute price, returned line
    assert lines.loc["A2-1", "returned_quantity"] == 1
    assert lines.loc["A1-1", "returned_quantity"] == 0
    assert lines.loc["A3-1", "unit_price"] == "0.00"
    assert lines.loc["A4-1", "unit_price"] == "19.999"  # extra precision kept
    assert set(lines["quantity"]) == {1} and set(lines["sku"]) == {"unknown"}
    assert lines["unit_cost"].isna().all()

    customers = _read(out, "crm_customers").set_index("customer_id")
    assert customers.loc["c-1", "signup_at"] == "2024-03-01 10:15:00"
    assert customers.loc["c-1", "email"] == "c-1@import.invalid"
    email = customers.loc["c 3", "email"]  # not a valid local part: sanitised + hash
    assert email.endswith("@import.invalid") and " " not in email
    assert customers["email"].is_unique
    loaded = _read(out, "crm_customers")["_loaded_at"].unique()
    assert list(loaded) == [pd.Timestamp("2024-03-06 02:00:00")]


def test_orders_per_customer_day_without_order_id(tmp_path: Path) -> None:
    text = "cust;day;amt\n1;2024-01-01 09:00;1,50\n1;2024-01-01 17:30;2,50\n1;2024-01-02;3\n2;2024-01-01;4\n"
    out = tmp_path / "raw"
    summary = import_transactions(
        _write(tmp_path, text), out=out, customer_col="cust", date_col="day", amount_col="amt", delimiter=";"
    )
    assert summary["orders"] == 3 and summary["lines"] == 4
    orders = _read(out, "shop_orders").set_index("order_id")
    assert orders.loc["1-20240101", "ordered_at"] == "2024-01-01 09:00:00"  # earliest time of the day
    lines = _read(out, "shop_order_lines")
    assert sorted(lines["unit_price"]) == ["1.50", "2.50", "3.00", "4.00"]  # decimal commas


def test_tab_delimiter_and_overwrite(tmp_path: Path) -> None:
    out = tmp_path / "raw"
    stale = out / "shop_orders" / "old-part.parquet"
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"stale")
    text = "id\twhen\tvalue\nx\t01/02/2024\t5\n"
    import_transactions(
        _write(tmp_path, text, "tx.tsv"),
        out=out,
        customer_col="id",
        date_col="when",
        amount_col="value",
        date_format="%d/%m/%Y",
        delimiter="\t",
    )
    assert not stale.exists()
    assert _read(out, "shop_orders")["ordered_at"].tolist() == ["2024-02-01 00:00:00"]


# ----------------------------------------------------------------------------- errors


def _import(path: Path, out: Path, **kw: object) -> dict:
    args = {"customer_col": "Customer", "date_col": "Date", "amount_col": "Amount"} | kw
    return import_transactions(path, out=out, **args)  # type: ignore[arg-type]


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ImportError_, match=r"nope\.csv: file not found"):
        _import(tmp_path / "nope.csv", tmp_path / "raw")


def test_missing_column_lists_available(tmp_path: Path) -> None:
    path = _write(tmp_path, SMALL)
    with pytest.raises(ImportError_) as err:
        _import(path, tmp_path / "raw", amount_col="amount_usd")
    msg = str(err.value)
    assert "tx.csv" in msg and "'amount_usd'" in msg
    assert "'order_no', 'Customer', 'Date', 'Amount'" in msg
    assert not (tmp_path / "raw").exists()  # nothing written


def test_unparseable_dates(tmp_path: Path) -> None:
    path = _write(tmp_path, "Customer,Date,Amount\n1,2024-01-01,1\n2,yesterday,2\n3,2024-13-45,3\n")
    with pytest.raises(ImportError_) as err:
        _import(path, tmp_path / "raw")
    msg = str(err.value)
    assert "tx.csv" in msg and "'Date'" in msg and "2 of 3" in msg
    assert "line 3: 'yesterday'" in msg and "line 4: '2024-13-45'" in msg


def test_date_format_mismatch(tmp_path: Path) -> None:
    path = _write(tmp_path, "Customer,Date,Amount\n1,2024-01-01,1\n")
    with pytest.raises(ImportError_, match=r"'Date'.*1 of 1.*%Y%m%d"):
        _import(path, tmp_path / "raw", date_format="%Y%m%d")


def test_non_numeric_amounts(tmp_path: Path) -> None:
    path = _write(tmp_path, "Customer,Date,Amount\n1,2024-01-01,abc\n2,2024-01-01,\n3,2024-01-01,4\n")
    with pytest.raises(ImportError_) as err:
        _import(path, tmp_path / "raw")
    msg = str(err.value)
    assert "tx.csv" in msg and "'Amount'" in msg and "2 of 3" in msg and "'abc'" in msg


@pytest.mark.parametrize("text", ["", "Customer,Date,Amount\n"], ids=["zero-bytes", "header-only"])
def test_empty_file(tmp_path: Path, text: str) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(ImportError_, match=r"tx\.csv: the file is empty"):
        _import(path, tmp_path / "raw")


def test_empty_customer_id(tmp_path: Path) -> None:
    path = _write(tmp_path, "Customer,Date,Amount\n,2024-01-01,1\n")
    with pytest.raises(ImportError_, match=r"'Customer'.*empty customer id"):
        _import(path, tmp_path / "raw")


def test_unsupported_currency(tmp_path: Path) -> None:
    path = _write(tmp_path, "Customer,Date,Amount\n1,2024-01-01,1\n")
    with pytest.raises(ImportError_, match=r"unsupported currency 'XYZ'"):
        _import(path, tmp_path / "raw", currency="XYZ")
