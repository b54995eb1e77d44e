"""Real-export shapes end to end: hand-written export -> `lifecycle import-transactions` -> `make build`.

Each shape in tests/fixtures/exports/shapes.json is a file written by hand to look like a real
retail export (line-level invoices with credit notes, marketplace orders with a person key and
statuses in BRL, a European export, one row per rejected-row reason, a shop without a single
repeat buyer, a shop of 300 customers). Each is imported and built with the README's command
(`make build`: dbt build, Great Expectations validation, publish), and the published marts are
checked to the cent and the row against figures worked out by hand from the fixture. The same
shapes are timed by `make bench` (scripts/bench_exports.py), never here.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest
from conftest import build_pool, selected_params

from lifecycle import paths

pytestmark = pytest.mark.slow

EXPORTS = paths.PROJECT_ROOT / "tests" / "fixtures" / "exports"
sys.path.insert(0, str(EXPORTS))
import shapes  # noqa: E402  (tests/fixtures/exports/shapes.py)


@dataclass(frozen=True)
class Built:
    raw_dir: Path
    serving: Path
    report: dict[str, Any]


def _env(tmp: Path, raw: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DBT_", "LIFECYCLE_"))}
    env.update(
        LIFECYCLE_RAW_DIR=str(raw),
        LIFECYCLE_DB=str(tmp / "warehouse" / "lifecycle.duckdb"),
        LIFECYCLE_SERVING_DB=str(tmp / "warehouse" / "serving.duckdb"),
        LIFECYCLE_THREADS="2",
        DBT_SEND_ANONYMOUS_USAGE_STATS="False",
        DO_NOT_TRACK="1",
        GX_ANALYTICS_ENABLED="False",
    )
    return env


def import_and_build(name: str, tmp: Path) -> Built:
    shape = shapes.SHAPES[name]
    inputs = shapes.inputs(name, tmp / "input")
    raw = tmp / "raw"
    env = _env(tmp, raw)
    bin_dir = Path(sys.executable).parent
    cmd = [str(bin_dir / "lifecycle"), "import-transactions", *map(str, inputs), *shape["import_args"]]
    cmd += ["--out", str(raw)]
    imported = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert imported.returncode == 0, imported.stdout[-3000:] + imported.stderr[-3000:]
    report = json.loads((raw / "_import_report.json").read_text())
    dbt_vars = json.dumps(shape.get("dbt_vars", {}))
    built = subprocess.run(
        ["make", "-C", str(paths.PROJECT_ROOT), "build", f"DBT_ARGS=--vars '{dbt_vars}'"],
        env=env, capture_output=True, text=True, timeout=1200,
    )
    assert built.returncode == 0, built.stdout[-8000:] + built.stderr[-3000:]
    return Built(raw, Path(env["LIFECYCLE_SERVING_DB"]), report)


@pytest.fixture(scope="module")
def builds(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Future[Built]]]:
    """Every shape the selected tests use, imported and built side by side (conftest.build_pool)."""
    with build_pool() as pool:
        yield {
            name: pool.submit(import_and_build, name, tmp_path_factory.mktemp(name))
            for name in selected_params(request, "built")
        }


@pytest.fixture()
def built(request: pytest.FixtureRequest, builds: dict[str, Future[Built]]) -> Built:
    """The build of the shape the test is parametrised with."""
    return builds[request.param].result()


def q(built: Built, sql: str) -> list[tuple[Any, ...]]:
    con = duckdb.connect(str(built.serving), read_only=True)
    try:
        return con.sql(sql).fetchall()
    finally:
        con.close()


def per_customer(built: Built) -> dict[str, tuple[Decimal, int]]:
    rows = q(built, "select customer_id, net_revenue, purchase_days from marts.customers")
    return {c: (r, d) for c, r, d in rows}


def kpi_totals(built: Built) -> tuple[Decimal, Decimal, int]:
    ((revenue, anonymous, orders),) = q(
        built,
        "select sum(revenue), sum(anonymous_revenue), sum(purchase_orders) "
        "from marts.kpi_monthly where dimension = 'overall'",
    )
    return revenue, anonymous, orders


def quarantine_counts(built: Built, detected_in: str = "import") -> dict[str, int]:
    rows = q(
        built,
        "select quarantine_reason, count(*) from marts.quarantined_rows "
        f"where detected_in = '{detected_in}' group by 1",
    )
    return dict(rows)


def clv_status(built: Built) -> str:
    ((status,),) = q(built, "select distinct model_status from marts.clv_model_parameters")
    return str(status)


# ------------------------------------------------------------------------------------------ shapes


@pytest.mark.parametrize("built", ["online_retail_lines"], indirect=True)
def test_line_level_invoices_net_credit_notes_and_same_day_cancellations(built: Built) -> None:
    assert per_customer(built) == {
        "17850": (Decimal("67.74"), 2),  # two purchase days; a later partial credit note of 4.20
        "13047": (Decimal("122.18"), 3),  # a zero-priced order with nothing cancelled still counts
        "14527": (Decimal("7.50"), 2),  # a same-day discount credit leaves a positive day
        "16446": (Decimal("2.90"), 1),  # 80,995 units cancelled 12 minutes later: not a purchase
        "12346": (Decimal("0.00"), 0),  # 74,215 units cancelled the same day: never a buyer
        "15000": (Decimal("-10.00"), 0),  # only a credit note (for a purchase before the data)
    }
    revenue, anonymous, _ = kpi_totals(built)
    assert revenue == Decimal("190.32")
    assert anonymous == Decimal("10.93")  # a guest basket; a bad-debt adjustment and its reversal net 0
    assert built.report["rows_read"] == 26
    assert built.report["rows_rejected"] == 0
    assert built.report["rows_anonymous"] == 4
    assert quarantine_counts(built) == {}
    # 16446's cancelled 168,469.60 never reaches the CLV inputs.
    ((top,),) = q(built, "select max(historical_revenue) from marts.customer_clv")
    assert top == Decimal("122.18")
    # The CLV mart's revenue to date is the customer's, credit notes included.
    assert q(built, "select historical_revenue from marts.customer_clv where customer_id = '15000'") == [
        (Decimal("-10.00"),)
    ]


@pytest.mark.parametrize("built", ["marketplace_items"], indirect=True)
def test_marketplace_orders_by_person_with_statuses_in_brl(built: Built) -> None:
    assert per_customer(built) == {
        "7c396fd4830fd04220f754e42b4e5bff": (Decimal("188.68"), 3),
        "af07308b275d755c9edb36a90c618231": (Decimal("89.90"), 1),  # a canceled order nets 0
        "3a653a41f6f9fc3d2a113cf8398680e8": (Decimal("0.00"), 0),  # 'unavailable' = cancelled
        "4c93744516667ad3b8f1fb645a3116a4": (Decimal("80.50"), 2),  # shipped, invoiced
        "0a0a92112bd4c708ca5fde585afaa872": (Decimal("120.00"), 1),  # processing
    }
    revenue, anonymous, orders = kpi_totals(built)
    assert (revenue, anonymous, orders) == (Decimal("479.08"), Decimal("0.00"), 7)
    assert built.report["rejected_by_reason"] == {"unknown_status": 1}
    assert quarantine_counts(built) == {"unknown_status": 1}


@pytest.mark.parametrize("built", ["european_orders"], indirect=True)
def test_european_export_with_decimal_commas_and_consent(built: Built) -> None:
    assert per_customer(built) == {
        "K001": (Decimal("1334.40"), 2),
        "K002": (Decimal("0.00"), 0),  # bought and returned on the same day
        "K003": (Decimal("19.75"), 2),
        "K004": (Decimal("0.00"), 1),  # a zero-priced purchase
    }
    assert q(built, "select customer_id from marts.customers where has_marketing_consent order by 1") == [
        ("K001",),
        ("K003",),
    ]
    assert kpi_totals(built)[0] == Decimal("1354.15")


@pytest.mark.parametrize("built", ["every_reject_reason"], indirect=True)
def test_every_rejected_row_reason_is_counted_and_quarantined(built: Built) -> None:
    expected = {
        "unparseable_timestamp": 1,
        "future_timestamp": 1,
        "invalid_amount": 1,
        "amount_out_of_range": 1,
        "invalid_quantity": 1,
        "missing_key": 1,
        "unknown_status": 1,
        "mixed_currency": 2,
    }
    assert built.report["rows_read"] == 15
    assert built.report["rejected_by_reason"] == expected
    assert built.report["rows_imported"] == 6
    assert built.report["rows_anonymous"] == 2
    assert quarantine_counts(built) == expected
    rejects = (built.raw_dir / "_rejects.csv").read_text().splitlines()
    assert len(rejects) == 1 + 9
    customers = per_customer(built)
    assert customers["alice"] == (Decimal("25.00"), 1)
    assert customers["bob"] == (Decimal("15.00"), 1)  # his unparseable and future rows are not sales
    assert customers["carol"] == (Decimal("0.00"), 0)  # refunded
    revenue, anonymous, _ = kpi_totals(built)
    assert (revenue, anonymous) == (Decimal("40.00"), Decimal("18.00"))
    # The future-dated row never moved the as-of date.
    assert q(built, "select distinct as_of_date from marts.customers") == [(_as_date("2024-05-09"),)]


@pytest.mark.parametrize("built", ["no_repeat_buyers"], indirect=True)
def test_a_shop_without_repeat_buyers_builds_validates_and_publishes(built: Built) -> None:
    customers = per_customer(built)
    assert len(customers) == 40
    assert all(days == 1 for _, days in customers.values())
    assert sum(r for r, _ in customers.values()) == sum(Decimal(f"{10 + i}.50") for i in range(40))
    assert clv_status(built) == "insufficient_data"
    assert q(built, "select count(*) from marts.customer_clv where p_alive is not null") == [(0,)]
    assert q(built, "select count(*) from marts.customer_lifecycle") == [(40,)]
    assert q(built, "select count(*) > 0 from marts.kpi_monthly") == [(True,)]


@pytest.mark.parametrize("built", ["shop_300_customers"], indirect=True)
def test_a_shop_of_300_customers_is_fitted_and_nets_its_credit_notes(built: Built) -> None:
    customers = per_customer(built)
    revenue, purchase_days = shapes.expected_300()
    assert len(customers) == 300
    assert sum(r for r, _ in customers.values()) == revenue
    assert sum(d for _, d in customers.values()) == purchase_days
    assert kpi_totals(built)[0] == revenue
    assert clv_status(built) == "fitted"


def _as_date(text: str) -> date:
    return date.fromisoformat(text)
