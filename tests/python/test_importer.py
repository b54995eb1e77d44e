"""Tests for lifecycle.importer: exports shaped like real retailers' files become the raw tables.

The fixtures under tests/fixtures/imports/ are small hand-written files in the shapes of public
retail exports: a line-level online-retail file with cancellation invoices, marketplace orders
with statuses in BRL, a European ';' export with consent, one file with one row per rejected-row
reason, UTF-16 and cp1252 files, a duplicate header, a wrong delimiter and a folder of two months.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq
import pytest

from lifecycle import schema
from lifecycle.importer import ImportError_, import_transactions
from lifecycle.rawcheck import check_raw_dir

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "imports"


def _read(out: Path, table: str) -> pd.DataFrame:
    return pq.read_table(out / table).to_pandas()


def _write(tmp_path: Path, text: str, name: str = "tx.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _report(out: Path) -> dict[str, Any]:
    return json.loads((out / "_import_report.json").read_text(encoding="utf-8"))


def _assert_counts_add_up(report: dict[str, Any]) -> None:
    assert report["rows_read"] == report["rows_imported"] + report["rows_rejected"]
    assert report["rows_rejected"] == sum(report["rejected_by_reason"].values())
    assert report["rows_anonymous"] == sum(report["anonymous_by_value"].values())
    assert report["lines"] == report["rows_imported"]


# ----------------------------------------------------------------------------- online retail (line level)

RETAIL = {
    "customer_col": "CustomerID",
    "date_col": "InvoiceDate",
    "quantity_col": "Quantity",
    "unit_price_col": "UnitPrice",
    "order_id_col": "InvoiceNo",
    "currency": "GBP",
    "loaded_at": "2012-01-01T00:00:00",
}


@pytest.fixture(scope="module")
def retail(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("retail")
    import_transactions(
        FIXTURES / "online_retail.csv", out, date_format="%m/%d/%Y %H:%M", normalise_ids=True, **RETAIL
    )
    return out


def test_retail_month_first_dates_need_a_format(tmp_path: Path) -> None:
    with pytest.raises(ImportError_, match=r"'1/18/2011 10:01' are month-first: pass --date-format %m/%d/%Y %H:%M"):
        import_transactions(FIXTURES / "online_retail.csv", tmp_path / "raw", **RETAIL)
    assert not (tmp_path / "raw").exists()


def test_retail_orders_and_credit_lines(retail: Path) -> None:
    orders = _read(retail, "shop_orders").set_index("order_id")
    assert list(orders.index) == [
        "536365", "536366", "536367", "536381", "536414", "536544", "C536383",
        "541431", "C541433", "541432", "A563186", "581483", "C581484",
    ]  # fmt: skip
    assert set(orders["status"]) == {"completed"} and set(orders["currency"]) == {"GBP"}
    assert orders.loc["C541433", "ordered_at"] == "2011-01-18 10:17:00"
    assert orders.loc["536365", "customer_id"] == "17850"  # '17850.0' normalised
    assert orders.loc[["536414", "536544", "A563186"], "customer_id"].isna().all()  # anonymous sales
    assert orders["customer_id"].notna().sum() == 10

    lines = _read(retail, "shop_order_lines").set_index("order_line_id")
    assert len(lines) == 16
    assert lines.loc["536365-2", ["quantity", "unit_price"]].tolist() == [6, "3.39"]
    assert lines.loc["536367-2", ["quantity", "unit_price"]].tolist() == [1, "0.00"]  # a zero-priced purchase
    assert lines.loc["C541433-1", ["quantity", "unit_price"]].tolist() == [-74215, "1.04"]  # same-day cancel
    assert lines.loc["C581484-1", ["quantity", "unit_price"]].tolist() == [-80995, "2.08"]
    assert lines.loc["A563186-1", ["quantity", "unit_price"]].tolist() == [-1, "11062.06"]  # bad-debt adjustment
    assert (lines["returned_quantity"] == 0).all()
    assert sorted(lines.index[lines["quantity"] < 0]) == ["A563186-1", "C536383-1", "C541433-1", "C581484-1"]
    net = (lines["quantity"] * lines["unit_price"].astype(float)).groupby(lines["order_id"]).sum()
    assert net.loc[["541431", "C541433"]].sum() == pytest.approx(0.0)  # 74215 ordered and cancelled

    customers = _read(retail, "crm_customers")
    assert customers["customer_id"].tolist() == ["12346", "13047", "14527", "16446", "17850"]


def test_retail_report(retail: Path) -> None:
    report = _report(retail)
    _assert_counts_add_up(report)
    assert report["rows_read"] == 16 and report["rows_rejected"] == 0
    assert report["rows_anonymous"] == 4 and report["anonymous_by_value"] == {"": 4}
    assert (report["customers"], report["orders"], report["anonymous_orders"]) == (5, 13, 3)
    assert (report["credit_lines"], report["credit_orders"]) == (4, 4)
    assert report["net_amount_by_currency"] == {"GBP": "-10895.83"}
    assert report["date_range"] == {"first": "2010-12-01 08:26:00", "last": "2011-12-09 09:27:00"}
    assert report["files"][0]["encoding"] == "utf-8"
    assert report["warnings"] == [
        "column 'CustomerID': 5 distinct ids are written as floats (like '12923.0'); normalised (--normalise-ids)"
    ]


def test_retail_float_ids_kept_without_normalise(tmp_path: Path) -> None:
    out = tmp_path / "raw"
    report = import_transactions(FIXTURES / "online_retail.csv", out, date_format="%m/%d/%Y %H:%M", **RETAIL)
    assert "pass --normalise-ids to fix" in report["warnings"][0]
    assert "17850.0" in set(_read(out, "crm_customers")["customer_id"])


# ----------------------------------------------------------------------------- marketplace orders with statuses


@pytest.fixture(scope="module")
def olist(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    out = tmp_path_factory.mktemp("olist")
    report = import_transactions(
        FIXTURES / "olist_orders.csv",
        out,
        customer_col="customer_unique_id",
        date_col="order_purchase_timestamp",
        amount_col="price",
        order_id_col="order_id",
        status_col="order_status",
        currency="BRL",
        loaded_at="2019-01-01",
    )
    return out, report


def test_olist_statuses(olist: tuple[Path, dict[str, Any]]) -> None:
    out, report = olist
    orders = _read(out, "shop_orders").set_index("order_id")
    assert len(orders) == 8 and set(orders["currency"]) == {"BRL"}
    assert sorted(orders.index[orders["status"] == "cancelled"]) == [
        "949d5b44dbf5de918fe9c16f97b45f8a",  # canceled
        "ad21c59c0840e6cb83a9ceb5573f8159",  # unavailable
    ]
    assert (orders["status"] == "completed").sum() == 6  # delivered, shipped, invoiced, processing, approved
    assert orders.loc["53cdb2fc8bc7dce0b6741e2150273451", "customer_id"] == "af07308b275d755c9edb36a90c618231"
    lines = _read(out, "shop_order_lines")
    assert lines.loc[lines["order_id"] == "53cdb2fc8bc7dce0b6741e2150273451", "unit_price"].tolist() == [
        "118.70", "118.70",
    ]  # fmt: skip
    assert set(lines["quantity"]) == {1}
    customers = _read(out, "crm_customers")["customer_id"].tolist()
    assert len(customers) == 5 and "80bb27c7c16e8f973207a5086ab329e2" not in customers  # only an unknown status

    _assert_counts_add_up(report)
    assert (report["rows_read"], report["rows_imported"], report["rows_rejected"]) == (10, 9, 1)
    assert report["rejected_by_reason"] == {"unknown_status": 1}
    assert report["statuses"]["created"] == {"maps_to": None, "rows": 1}
    assert report["statuses"]["delivered"] == {"maps_to": "completed", "rows": 3}
    assert report["cancelled_orders"] == 2
    assert report["net_amount_by_currency"] == {"BRL": "531.69"}  # cancelled orders not counted
    assert any("'created' (1 rows)" in w for w in report["warnings"])
    rejects = _read(out, "import_rejects")
    assert rejects[["reject_id", "line_number", "reason"]].values.tolist() == [
        ["olist_orders.csv:9", 9, "unknown_status"]
    ]
    assert "80bb27c7" not in rejects.loc[0, "detail"]  # never the customer's identifier


def test_status_map_adds_words(tmp_path: Path) -> None:
    report = import_transactions(
        FIXTURES / "olist_orders.csv",
        tmp_path / "raw",
        customer_col="customer_unique_id",
        date_col="order_purchase_timestamp",
        amount_col="price",
        order_id_col="order_id",
        status_col="order_status",
        status_map="created=cancelled",
        currency="BRL",
        loaded_at="2019-01-01",
    )
    assert report["rows_rejected"] == 0 and report["cancelled_orders"] == 3


def test_line_statuses_inside_an_order(tmp_path: Path) -> None:
    text = (
        "order,cust,day,qty,price,state\n"
        "O1,a,2024-01-01,2,5.00,shipped\n"
        "O1,a,2024-01-01,1,3.00,Refunded\n"
        "O2,a,2024-01-02,1,4.00,cancelled\n"
        "O3,b,2024-01-03,1,9.00,refunded\n"
        "O3,b,2024-01-03,1,1.00,void\n"
    )
    out = tmp_path / "raw"
    report = import_transactions(
        _write(tmp_path, text), out, "cust", "day", quantity_col="qty", unit_price_col="price",
        order_id_col="order", status_col="state", loaded_at="2024-02-01",
    )  # fmt: skip
    orders = _read(out, "shop_orders").set_index("order_id")["status"].to_dict()
    assert orders == {"O1": "completed", "O2": "cancelled", "O3": "returned"}
    lines = _read(out, "shop_order_lines").set_index("order_line_id")["returned_quantity"].to_dict()
    assert lines == {"O1-1": 0, "O1-2": 1, "O2-1": 0, "O3-1": 0, "O3-2": 0}
    assert report["net_amount_by_currency"] == {"USD": "10.00"}


# ----------------------------------------------------------------------------- European export with consent


@pytest.fixture(scope="module")
def european(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    out = tmp_path_factory.mktemp("european")
    report = import_transactions(
        FIXTURES / "european.csv",
        out,
        customer_col="Kundennummer",
        date_col="Bestelldatum",
        amount_col="Betrag",
        order_id_col="Bestellnummer",
        delimiter=";",
        date_format="%d.%m.%Y",
        currency="EUR",
        consent_col="Newsletter",
        loaded_at="2024-06-30",
    )
    return out, report


def test_european_amounts_dates_consent(european: tuple[Path, dict[str, Any]]) -> None:
    out, report = european
    lines = _read(out, "shop_order_lines").set_index("order_id")
    assert lines["unit_price"].to_dict() == {
        "B1001": "1234.50", "B1002": "12.50", "B1003": "99.90", "B1004": "45.00", "B1005": "2000.00", "B1006": "7.95",
    }  # fmt: skip
    assert lines.loc["B1003", "quantity"] == -1 and (lines.drop("B1003")["quantity"] == 1).all()
    orders = _read(out, "shop_orders").set_index("order_id")
    assert orders.loc["B1002", "ordered_at"] == "2024-01-15 00:00:00"
    assert orders.loc["B1005", "ordered_at"] == "2024-02-29 00:00:00"
    customers = _read(out, "crm_customers").set_index("customer_id")
    # K-001 opted in, then out (the latest row wins); 'ja' is not a consent word: no consent, said
    assert customers["marketing_consent"].to_dict() == {"K-001": False, "K-002": False, "K-003": False, "K-004": True}
    assert report["consent"]["mode"] == "column 'Newsletter'"
    assert report["consent"]["customers_consenting"] == 1
    assert report["consent"]["unrecognised_values"] == {"ja": 1}
    assert report["net_amount_by_currency"] == {"EUR": "3200.05"}
    assert report["files"][0]["delimiter"] == ";"


def test_european_day_first_refused_without_format(tmp_path: Path) -> None:
    with pytest.raises(ImportError_, match=r"'15\.01\.2024' are day-first: pass --date-format %d\.%m\.%Y"):
        import_transactions(
            FIXTURES / "european.csv", tmp_path / "raw", "Kundennummer", "Bestelldatum", "Betrag", delimiter=";"
        )


def test_ambiguous_dates_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, "c,d,a\n1,03/04/2011,1\n2,05/06/2011,2\n")
    with pytest.raises(ImportError_, match=r"could be day-first or month-first: pass --date-format %d/%m/%Y or"):
        import_transactions(path, tmp_path / "raw", "c", "d", "a")
    path = _write(tmp_path, "c,d,a\n1,13/04/2011,1\n2,05/16/2011,2\n")
    with pytest.raises(ImportError_, match=r"mixes day-first dates \(like '13/04/2011'\) and month-first"):
        import_transactions(path, tmp_path / "raw", "c", "d", "a")
    with pytest.raises(ImportError_, match=r"--date-format mixed is refused"):
        import_transactions(path, tmp_path / "raw", "c", "d", "a", date_format="mixed")


def test_a_format_that_swaps_day_and_month_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ImportError_, match=r"'1/18/2011 10:01' do not fit --date-format %d/%m/%Y %H:%M but fit "
                       r"%m/%d/%Y %H:%M: the format swaps day and month"):
        args = RETAIL | {"date_format": "%d/%m/%Y %H:%M"}
        import_transactions(FIXTURES / "online_retail.csv", tmp_path / "raw", **args)  # type: ignore[arg-type]
    assert not (tmp_path / "raw").exists()


def test_quantities(tmp_path: Path) -> None:
    text = "o,c,d,q,p\nA,x,2024-01-01,3.0,1\nB,x,2024-01-01,1.000,1\nC,x,2024-01-01,+2,1\nD,x,2024-01-01,,1\n"
    out = tmp_path / "raw"
    report = import_transactions(
        _write(tmp_path, text), out, "c", "d", quantity_col="q", unit_price_col="p", order_id_col="o",
        loaded_at="2024-02-01",
    )  # fmt: skip
    assert _read(out, "shop_order_lines").set_index("order_id")["quantity"].to_dict() == {"A": 3, "C": 2}
    assert report["rejected_by_reason"] == {"invalid_quantity": 2}  # '1.000' could be 1 or 1000: not guessed


def test_nothing_importable_stops(tmp_path: Path) -> None:
    path = _write(tmp_path, "c,d,a\n1,2030-01-01,1\n2,2024-01-01,1e400x\n")
    nothing = r"none of the 2 rows can be imported \(future_timestamp 1, invalid_amount 1\)"
    with pytest.raises(ImportError_, match=nothing):
        import_transactions(path, tmp_path / "raw", "c", "d", "a", loaded_at="2025-01-01")
    assert not (tmp_path / "raw").exists()


def test_marketing_consent_modes(tmp_path: Path) -> None:
    path = _write(tmp_path, "c,d,a\n1,2024-01-01,1\n2,2024-01-02,2\n")
    report = import_transactions(path, tmp_path / "none", "c", "d", "a")
    assert report["consent"]["mode"] == "none" and "audiences will be empty" in report["consent"]["note"]
    assert not _read(tmp_path / "none", "crm_customers")["marketing_consent"].any()
    import_transactions(path, tmp_path / "all", "c", "d", "a", marketing_consent="all")
    assert _read(tmp_path / "all", "crm_customers")["marketing_consent"].all()
    with pytest.raises(ImportError_, match="not both"):
        import_transactions(path, tmp_path / "x", "c", "d", "a", consent_col="c", marketing_consent="all")


# ----------------------------------------------------------------------------- every rejected-row reason

REJECTS_EXPECTED = [
    ("rejects.csv:3", 3, "missing_key"),
    ("rejects.csv:4", 4, "unparseable_timestamp"),
    ("rejects.csv:5", 5, "future_timestamp"),
    ("rejects.csv:6", 6, "invalid_quantity"),
    ("rejects.csv:7", 7, "invalid_quantity"),
    ("rejects.csv:8", 8, "invalid_amount"),
    ("rejects.csv:9", 9, "amount_out_of_range"),
    ("rejects.csv:10", 10, "unknown_status"),
    ("rejects.csv:11", 11, "mixed_currency"),
    ("rejects.csv:12", 12, "mixed_currency"),
    ("rejects.csv:15", 15, "amount_out_of_range"),
]
REJECT_ARGS = {
    "customer_col": "customer",
    "date_col": "ordered",
    "quantity_col": "qty",
    "unit_price_col": "price",
    "order_id_col": "order_id",
    "status_col": "status",
    "currency_col": "currency",
    "loaded_at": "2024-06-30T00:00:00",
}


@pytest.fixture(scope="module")
def rejected(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    out = tmp_path_factory.mktemp("rejects")
    return out, import_transactions(FIXTURES / "rejects.csv", out, **REJECT_ARGS)


def test_every_reject_reason(rejected: tuple[Path, dict[str, Any]]) -> None:
    out, report = rejected
    rejects = _read(out, "import_rejects")
    assert [tuple(r) for r in rejects[["reject_id", "line_number", "reason"]].values.tolist()] == REJECTS_EXPECTED
    assert set(rejects["source_file"]) == {"rejects.csv"}
    assert set(rejects["reason"]) <= set(schema.QUARANTINE_REASONS)
    detail = rejects.set_index("line_number")["detail"]
    assert detail[3] == "column 'order_id' (order id) is empty"
    assert detail[4] == "column 'ordered': '2024-02-30' is not a date in ISO 8601"
    assert detail[5] == "column 'ordered': '2031-01-01' is after the load time 2024-06-30 00:00:00"
    assert detail[7] == "column 'qty': '1.5' is not a whole non-zero quantity"
    assert detail[8] == "column 'price': 'abc' is not a number"
    assert detail[10] == "column 'status': status 'on hold' is not known (map it with --status-map)"
    assert detail[11] == "column 'currency': the order's rows carry EUR, USD"
    assert "2000000000 x 10000000.00" in detail[15]
    csv = pd.read_csv(out / "_rejects.csv", dtype=str)
    assert csv["reject_id"].tolist() == [r[0] for r in REJECTS_EXPECTED]
    assert csv.columns.tolist() == ["reject_id", "source_file", "line_number", "reason", "detail"]

    _assert_counts_add_up(report)
    assert (report["rows_read"], report["rows_imported"], report["rows_rejected"]) == (14, 3, 11)
    assert report["rejected_by_reason"] == {
        "amount_out_of_range": 2, "future_timestamp": 1, "invalid_amount": 1, "invalid_quantity": 2,
        "missing_key": 1, "mixed_currency": 2, "unknown_status": 1, "unparseable_timestamp": 1,
    }  # fmt: skip
    assert report["anonymous_by_value"] == {"n/a": 1}

    orders = _read(out, "shop_orders").set_index("order_id")
    assert orders.to_dict("index").keys() == {"R1", "R11", "R12"}
    assert orders.loc["R11", "customer_id"] is None or pd.isna(orders.loc["R11", "customer_id"])
    assert orders.loc["R12", "status"] == "returned"
    assert _read(out, "crm_customers")["customer_id"].tolist() == ["A", "G"]
    assert report["date_range"]["last"] == "2024-01-11 00:00:00"  # the future row never moves the dates


def test_output_fits_the_contract(rejected: tuple[Path, dict[str, Any]]) -> None:
    out, _ = rejected
    for rt in schema.RAW_TABLES:
        files = list((out / rt.name).glob("*.parquet"))
        assert len(files) == 1
        assert pq.ParquetFile(files[0]).schema_arrow.equals(rt.arrow_schema), rt.name
    loaded = pq.read_table(out / "import_rejects", columns=["_loaded_at"]).column(0).unique().to_pylist()
    assert loaded == [dt.datetime(2024, 6, 30)]
    checked = subprocess.run(
        [str(Path(sys.executable).with_name("lifecycle")), "check-raw", "--raw-dir", str(out)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert checked.returncode == 0, checked.stderr
    assert json.loads(checked.stdout)["tables"]["import_rejects"]["rows"] == 11


def test_strict_refuses_and_writes_nothing(tmp_path: Path) -> None:
    with pytest.raises(ImportError_, match=r"--strict: 11 of 14 rows .*invalid_quantity 2.*nothing written"):
        import_transactions(FIXTURES / "rejects.csv", tmp_path / "raw", strict=True, **REJECT_ARGS)
    assert not (tmp_path / "raw").exists()


def test_deterministic_for_a_given_loaded_at(tmp_path: Path) -> None:
    import_transactions(FIXTURES / "rejects.csv", tmp_path / "a", **REJECT_ARGS)
    import_transactions(FIXTURES / "rejects.csv", tmp_path / "b", **REJECT_ARGS)
    files = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*") if p.is_file())
    assert len(files) == len(schema.RAW_TABLES) + 3
    for rel in files:
        a, b = (tmp_path / "a" / rel).read_bytes(), (tmp_path / "b" / rel).read_bytes()
        if rel.name == "_import_report.json":  # only the output folder differs
            ra, rb = json.loads(a), json.loads(b)
            assert (ra.pop("out"), rb.pop("out")) == (str(tmp_path / "a"), str(tmp_path / "b"))
            a, b = json.dumps(ra).encode(), json.dumps(rb).encode()
        assert a == b, rel


def test_loaded_at_defaults_to_now(tmp_path: Path) -> None:
    path = _write(tmp_path, "c,d,a\n1,2024-01-01,1\n2,2999-01-01,2\n")
    before = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
    report = import_transactions(path, tmp_path / "raw", "c", "d", "a")
    loaded = dt.datetime.fromisoformat(report["loaded_at"])
    assert before <= loaded <= dt.datetime.now(dt.UTC).replace(tzinfo=None)
    assert report["rejected_by_reason"] == {"future_timestamp": 1}


def test_more_than_half_bad_stops(tmp_path: Path) -> None:
    path = _write(tmp_path, "Customer,Date,Amount\n1,2024-01-01,1\n2,yesterday,2\n3,2024-13-45,3\n")
    with pytest.raises(ImportError_) as err:
        import_transactions(path, tmp_path / "raw", "Customer", "Date", "Amount")
    msg = str(err.value)
    assert "'Date'" in msg and "2 of 3" in msg and "tx.csv line 3: 'yesterday'" in msg
    with pytest.raises(ImportError_, match=r"'Date'.*1 of 1.*%Y%m%d"):
        import_transactions(
            _write(tmp_path, "Customer,Date,Amount\n1,2024-01-01,1\n"), tmp_path / "raw", "Customer", "Date",
            "Amount", date_format="%Y%m%d",
        )  # fmt: skip
    with pytest.raises(ImportError_, match=r"'Amount': 2 of 3 values are not numbers.*'abc'"):
        import_transactions(
            _write(tmp_path, "Customer,Date,Amount\n1,2024-01-01,abc\n2,2024-01-01,\n3,2024-01-01,4\n"),
            tmp_path / "raw", "Customer", "Date", "Amount",
        )  # fmt: skip
    assert not (tmp_path / "raw").exists()


# ----------------------------------------------------------------------------- anonymous sales and ids


def test_anonymous_rows_are_sales_in_no_customer(tmp_path: Path) -> None:
    text = (
        "cust,day,amt\n"
        ",2024-01-01,1\nNULL,2024-01-01,2\nnan,2024-01-01,3\n(blank),2024-01-02,4\nUnknown,2024-01-02,5\n"
        "N/A,2024-01-02,6\n0,2024-01-02,7\n0.0,2024-01-02,8\nguest,2024-01-03,9\nc1,2024-01-03,10\n"
    )
    out = tmp_path / "raw"
    report = import_transactions(_write(tmp_path, text), out, "cust", "day", "amt", anonymous_values=["GUEST"])
    orders = _read(out, "shop_orders")
    assert len(orders) == 10 and orders["customer_id"].isna().sum() == 9  # one order per anonymous row
    assert orders["order_id"].is_unique
    assert _read(out, "crm_customers")["customer_id"].tolist() == ["c1"]
    assert report["rows_anonymous"] == 9 and report["rows_rejected"] == 0
    assert report["anonymous_by_value"] == {
        "": 1, "(blank)": 1, "0": 1, "0.0": 1, "guest": 1, "n/a": 1, "nan": 1, "null": 1, "unknown": 1,
    }  # fmt: skip
    assert report["net_amount_by_currency"] == {"USD": "55.00"}


def test_orders_per_customer_day_without_order_id(tmp_path: Path) -> None:
    text = "cust;day;amt\n1;2024-01-01 09:00;1,50\n1;2024-01-01 17:30;2,50\n1;2024-01-02;3\n2;2024-01-01;4\n"
    out = tmp_path / "raw"
    report = import_transactions(_write(tmp_path, text), out, "cust", "day", "amt", delimiter=";")
    assert (report["orders"], report["lines"]) == (3, 4)
    orders = _read(out, "shop_orders").set_index("order_id")
    assert orders.loc["1-20240101", "ordered_at"] == "2024-01-01 09:00:00"  # earliest time of the day
    lines = _read(out, "shop_order_lines")
    assert lines["order_line_id"].tolist() == ["2-20240101-1", "1-20240101-1", "1-20240101-2", "1-20240102-1"]
    assert sorted(lines["unit_price"]) == ["1.50", "2.50", "3.00", "4.00"]  # decimal commas


def test_leading_zero_ids_warned_and_normalised(tmp_path: Path) -> None:
    text = "cust,order,day,amt\n00123,0007,2024-01-01,1\n123,7,2024-01-01,2\n0456,8,2024-01-02,3\n"
    path = _write(tmp_path, text)
    report = import_transactions(path, tmp_path / "a", "cust", "day", "amt", order_id_col="order")
    assert report["warnings"] == [
        "column 'cust': 1 distinct ids with leading zeros also appear without them (like '00123' and '123'); "
        "kept as written: pass --normalise-ids to fix",
        "column 'order': 1 distinct ids with leading zeros also appear without them (like '00123' and '123'); "
        "kept as written: pass --normalise-ids to fix",
    ]
    assert report["customers"] == 3
    report = import_transactions(path, tmp_path / "b", "cust", "day", "amt", order_id_col="order", normalise_ids=True)
    assert report["customers"] == 2 and report["orders"] == 2
    assert _read(tmp_path / "b", "crm_customers")["customer_id"].tolist() == ["123", "456"]


def test_order_id_shared_by_customers(tmp_path: Path) -> None:
    text = "o,c,d,a\nX,a,2024-01-01,1\nX,b,2024-01-01,2\nX,,2024-01-01,3\n"
    out = tmp_path / "raw"
    import_transactions(_write(tmp_path, text), out, "c", "d", "a", order_id_col="o")
    orders = _read(out, "shop_orders").set_index("order_id")["customer_id"]
    assert sorted(orders.index) == ["X-a", "X-anonymous", "X-b"]


# ----------------------------------------------------------------------------- files


def test_folder_of_monthly_files(tmp_path: Path) -> None:
    out = tmp_path / "raw"
    report = import_transactions(
        FIXTURES / "monthly", out, "customer", "date", "amount", order_id_col="order", loaded_at="2024-03-01"
    )
    assert [f["file"] for f in report["files"]] == ["2024-01.csv", "2024-02.csv"]
    assert report["rows_read"] == 6 and report["anonymous_by_value"] == {"unknown": 1}
    orders = _read(out, "shop_orders").set_index("order_id")
    assert list(orders.index) == ["M1", "M3", "M2", "M4", "M5"]
    assert orders.loc["M3", "ordered_at"] == "2024-01-31 22:00:00"  # one order across both files
    assert orders.loc["M2", "ordered_at"] == "2024-02-01 01:30:00"  # -02:00 converted to UTC
    assert orders.loc["M1", "ordered_at"] == "2024-01-10 09:00:00"
    lines = _read(out, "shop_order_lines")
    assert lines.loc[lines["order_id"] == "M3", "unit_price"].tolist() == ["5.00", "2.50"]
    glob_report = import_transactions(
        str(FIXTURES / "monthly" / "2024-0*.csv"), tmp_path / "g", "customer", "date", "amount",
        order_id_col="order", loaded_at="2024-03-01",
    )  # fmt: skip
    assert glob_report["orders"] == report["orders"] == 5


def test_files_of_the_same_name_in_two_folders(tmp_path: Path) -> None:
    for year, amount in (("2023", "1"), ("2024", "2")):
        (tmp_path / year).mkdir()
        _write(tmp_path / year, f"c,d,a\nx,{year}-05-01,{amount}\ny,{year}-05-02,oops\nz,{year}-05-02,3\n", "may.csv")
    report = import_transactions(
        [tmp_path / "2024", tmp_path / "2023"], tmp_path / "raw", "c", "d", "a", loaded_at="2025-01-01"
    )
    assert [f["file"] for f in report["files"]] == ["2023/may.csv", "2024/may.csv"]
    assert _read(tmp_path / "raw", "import_rejects")["reject_id"].tolist() == ["2023/may.csv:3", "2024/may.csv:3"]


@pytest.mark.parametrize("name", ["utf16.csv", "utf16le_nobom.csv"])
def test_utf16_detected_and_said(tmp_path: Path, name: str) -> None:
    out = tmp_path / "raw"
    report = import_transactions(FIXTURES / name, out, "client", "date", "montant", loaded_at="2024-03-31")
    assert report["files"][0]["encoding"] == "utf-16-le"
    assert ("byte-order mark" if name == "utf16.csv" else "NUL-byte pattern") in report["files"][0]["encoding_found"]
    assert _read(out, "crm_customers")["customer_id"].tolist() == ["André", "Zoë"]
    assert sorted(_read(out, "shop_order_lines")["unit_price"]) == ["12.50", "3.00", "7.25"]


def test_cp1252_refused_then_read_with_encoding(tmp_path: Path) -> None:
    path = FIXTURES / "cp1252.csv"
    with pytest.raises(ImportError_, match=r"cp1252\.csv: not UTF-8 .*looks like cp1252.*pass --encoding cp1252"):
        import_transactions(path, tmp_path / "raw", "client", "date", "montant", delimiter=";")
    report = import_transactions(
        path, tmp_path / "raw", "client", "date", "montant", delimiter=";", encoding="cp1252", currency="EUR"
    )
    assert _read(tmp_path / "raw", "crm_customers")["customer_id"].tolist() == ["Garçon", "Müller"]
    assert report["net_amount_by_currency"] == {"EUR": "19.75"}  # '€12,50' + '7,25'


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("o,c,d,a,note\nA,x,2024-01-01,1,plain\n\nC,x,2030-01-01,2,plain\n", 4),  # a blank line
        ('o,c,d,a,note\nA,x,2024-01-01,1,"two\nlines"\n\nC,x,2030-01-01,2,plain\n', 5),  # a quoted newline too
        ("o,c,d,a,note\r\nA,x,2024-01-01,1,plain\r\n,,,,\r\nC,x,2030-01-01,2\r\n", 4),  # CRLF, empty, short
    ],
    ids=["blank-line", "quoted-newline", "crlf-short-row"],
)
def test_line_numbers(tmp_path: Path, text: str, line: int) -> None:
    out = tmp_path / "raw"
    report = import_transactions(_write(tmp_path, text), out, "c", "d", "a", order_id_col="o", loaded_at="2025-01-01")
    assert report["rows_read"] == 2
    assert _read(out, "import_rejects")[["reject_id", "line_number"]].values.tolist() == [[f"tx.csv:{line}", line]]


def test_row_longer_than_the_header_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, "c,d,a\n1,2024-01-01,1\n2,2024-01-01,1,5\n")
    with pytest.raises(ImportError_, match=r"tx\.csv: line 3 has 4 fields but the header has 3"):
        import_transactions(path, tmp_path / "raw", "c", "d", "a")


def test_binary_files_refused(tmp_path: Path) -> None:
    book = tmp_path / "orders.csv"  # an Excel workbook saved with a .csv name
    with zipfile.ZipFile(book, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
    with pytest.raises(ImportError_, match=r"orders\.csv: this is not a text export but a ZIP archive \(an \.xlsx"):
        import_transactions(book, tmp_path / "raw", "c", "d", "a")
    parquet = tmp_path / "p.csv"
    parquet.write_bytes(b"PAR1\x15\x04" + bytes(range(40)))
    with pytest.raises(ImportError_, match="a Parquet file"):
        import_transactions(parquet, tmp_path / "raw", "c", "d", "a")
    blob = tmp_path / "blob.txt"
    blob.write_bytes(b"\x00\x01\x02\x03\xff\x00\x10" * 50)
    with pytest.raises(ImportError_, match="looks like a binary file"):
        import_transactions(blob, tmp_path / "raw", "c", "d", "a")


def test_duplicate_header_refused(tmp_path: Path) -> None:
    with pytest.raises(ImportError_, match=r"names column 'total' twice \(columns 4 and 5\)"):
        import_transactions(FIXTURES / "duplicate_header.csv", tmp_path / "raw", "customer", "date", "total")


def test_wrong_delimiter_suggests_the_right_one(tmp_path: Path) -> None:
    suggested = r"yields a single column; the file looks ';'-separated: pass --delimiter ';'"
    with pytest.raises(ImportError_, match=suggested):
        import_transactions(FIXTURES / "semicolon.csv", tmp_path / "raw", "Kunde", "Datum", "Umsatz")
    tabbed = _write(tmp_path, "c\td\ta\n1\t2024-01-01\t1\n")
    with pytest.raises(ImportError_, match=r"looks tab-separated: pass --delimiter tab"):
        import_transactions(tabbed, tmp_path / "raw", "c", "d", "a", delimiter=";")


def test_option_errors(tmp_path: Path) -> None:
    path = _write(tmp_path, "Customer,Date,Amount,Qty\n1,2024-01-01,1,1\n")
    with pytest.raises(ImportError_, match=r"either --amount-col, or both --quantity-col and --unit-price-col"):
        import_transactions(path, tmp_path / "raw", "Customer", "Date", "Amount", quantity_col="Qty")
    with pytest.raises(ImportError_, match=r"--currency: 'EURO' is not a 3-letter ISO 4217 code"):
        import_transactions(path, tmp_path / "raw", "Customer", "Date", "Amount", currency="EURO")
    with pytest.raises(ImportError_, match=r"--status-map: 'held=later' is not 'word=status'"):
        import_transactions(
            path, tmp_path / "raw", "Customer", "Date", "Amount", status_col="Qty", status_map="held=later"
        )
    with pytest.raises(ImportError_, match=r"column 'amount_usd' \(--amount-col\) not found.*'Customer', 'Date'"):
        import_transactions(path, tmp_path / "raw", "Customer", "Date", "amount_usd")
    with pytest.raises(ImportError_, match=r"nope\.csv: file not found"):
        import_transactions(tmp_path / "nope.csv", tmp_path / "raw", "Customer", "Date", "Amount")
    assert not (tmp_path / "raw").exists()


def test_any_iso_currency_and_currency_column(tmp_path: Path) -> None:
    text = "c,d,a,cur\n1,2024-01-01,5,brl\n2,2024-01-01,6,xyz\n1,2024-01-01,7,EUR\n"
    out = tmp_path / "raw"
    report = import_transactions(_write(tmp_path, text), out, "c", "d", "a", currency_col="cur")
    orders = _read(out, "shop_orders").set_index("order_id")["currency"].to_dict()
    # one order per currency for a customer who paid in two on one day; XYZ is left to the warehouse
    assert orders == {"1-20240101-BRL": "BRL", "1-20240101-EUR": "EUR", "2-20240101": "XYZ"}
    assert report["currencies"] == {"BRL": 1, "EUR": 1, "XYZ": 1}
    path = _write(tmp_path, "c,d,a\n1,2024-01-01,5\n", "one.csv")
    import_transactions(path, tmp_path / "sek", "c", "d", "a", currency="sek")
    assert _read(tmp_path / "sek", "shop_orders")["currency"].tolist() == ["SEK"]


@pytest.mark.parametrize("text", ["", "Customer,Date,Amount\n"], ids=["zero-bytes", "header-only"])
def test_empty_file(tmp_path: Path, text: str) -> None:
    with pytest.raises(ImportError_, match=r"tx\.csv: the file is empty"):
        import_transactions(_write(tmp_path, text), tmp_path / "raw", "Customer", "Date", "Amount")


def test_cli_prints_the_report(tmp_path: Path) -> None:
    out = tmp_path / "raw"
    run = subprocess.run(
        [
            str(Path(sys.executable).with_name("lifecycle")), "import-transactions", str(FIXTURES / "rejects.csv"),
            "--customer-col", "customer", "--date-col", "ordered", "--quantity-col", "qty",
            "--unit-price-col", "price", "--order-id-col", "order_id", "--status-col", "status",
            "--status-map", "on hold=completed", "--currency-col", "currency", "--loaded-at", "2024-06-30",
            "--out", str(out),
        ],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert "rows read 14: imported 4 (anonymous 1), rejected 10" in run.stdout
    assert "rejected mixed_currency: 2" in run.stdout
    assert _report(out)["rows_rejected"] == 10
    failed = subprocess.run(
        [str(Path(sys.executable).with_name("lifecycle")), "import-transactions", str(FIXTURES / "rejects.csv"),
         "--customer-col", "customer", "--date-col", "ordered", "--amount-col", "price", "--strict",
         "--loaded-at", "2024-06-30", "--out", str(tmp_path / "strict")],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert failed.returncode == 2 and failed.stderr.startswith("lifecycle import-transactions: error: --strict")


# ----------------------------------------------------------------------------- CDNOW (whitespace, no header)


def _cdnow_path() -> Path:
    spec = importlib.util.find_spec("lifetimes")  # locate the file without importing lifetimes
    if spec is None or spec.origin is None:
        pytest.skip("lifetimes is not installed")
    path = Path(spec.origin).parent / "datasets" / "CDNOW_sample.txt"
    if not path.exists():
        pytest.skip("CDNOW_sample.txt not shipped with lifetimes")
    return path


def test_cdnow(tmp_path: Path) -> None:
    path, out = _cdnow_path(), tmp_path / "raw"
    report = import_transactions(
        path, out, customer_col="col1", date_col="col3", amount_col="col5", date_format="%Y%m%d",
        delimiter="whitespace", no_header=True, loaded_at="1998-07-01T02:00:00",
    )  # fmt: skip
    ref = pd.read_csv(path, sep=r"\s+", header=None, dtype=str, names=["cust", "sample", "day", "cds", "usd"])
    _assert_counts_add_up(report)
    assert report["rows_read"] == len(ref) == 6919 and report["rows_rejected"] == 0
    assert report["customers"] == ref["cust"].nunique() == 2357
    assert report["orders"] == ref.groupby(["cust", "day"]).ngroups
    assert report["warnings"] == []  # zero-padded ids, but never the same id without its zeros
    assert report["date_range"] == {"first": "1997-01-01 00:00:00", "last": "1998-06-30 00:00:00"}
    customers = _read(out, "crm_customers")
    lines = _read(out, "shop_order_lines")
    assert set(customers["customer_id"]) == set(ref["cust"])  # ids kept verbatim, leading zeros included
    assert lines["unit_price"].astype(float).sum() == pytest.approx(ref["usd"].astype(float).sum())
    assert (lines["unit_price"] == "0.00").sum() == (ref["usd"].astype(float) == 0).sum()  # zeros kept
    assert (customers["email"] == customers["customer_id"] + "@import.invalid").all()
    manifest = json.loads((out / "_manifest.json").read_text())
    assert manifest["source"] == "import" and manifest["files"] == [str(path.resolve())]
    assert check_raw_dir(out)["tables"]["shop_order_lines"]["rows"] == 6919
