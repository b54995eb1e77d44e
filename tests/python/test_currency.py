"""Money and currencies: var reporting_currency drives every money column, rates by date.

A small hand-written raw data set (Parquet with the landing contract's schema) of a shop selling
in Brazil (BRL) and Germany (EUR), with one order in a currency nobody has a rate for (XYZ), is
built end to end with reporting_currency EUR. Net revenue is checked to the cent against rates
read from seeds/fx_rates.csv (the latest row on or before the order date), plus a few amounts
worked out by hand; the XYZ order must be quarantined as unknown_currency and named in the log.
"""

from __future__ import annotations

import csv
import random
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import build_pool, run_dbt

from lifecycle import generate, paths
from lifecycle.schema import RAW_TABLES, TABLES

SEED = paths.PROJECT_ROOT / "seeds" / "fx_rates.csv"
LOADED_AT = datetime(2026, 1, 2, 3, 0)
AS_OF = date(2025, 12, 31)
CENT = Decimal("0.01")


def _seed_rates() -> dict[str, list[tuple[date, Decimal]]]:
    rates: dict[str, list[tuple[date, Decimal]]] = {}
    with SEED.open(newline="") as f:
        for row in csv.DictReader(f):
            rates.setdefault(row["currency_code"], []).append(
                (date.fromisoformat(row["valid_from"]), Decimal(row["usd_per_unit"]))
            )
    return {code: sorted(rows) for code, rows in rates.items()}


def test_every_currency_the_generator_emits_has_a_rate() -> None:
    rates = _seed_rates()
    assert set(generate.CURRENCY_CODES) <= set(rates), set(generate.CURRENCY_CODES) - set(rates)
    # The generator's deliberately bad codes must stay unknown, or its quarantine counts would be wrong.
    assert not set(generate.BAD_CURRENCIES) & set(rates)
    # Each shipped currency has a rate from an early date, so old exports convert too.
    assert all(rows[0][0] <= date(1990, 1, 1) for rows in rates.values())


# ---------------------------------------------------------------------------------------------
# The hand-written shop: (customer, country, currency, loyalty card) and its orders.


@dataclass(frozen=True)
class Order:
    order_id: str
    customer_id: str
    day: date
    currency: str
    lines: tuple[tuple[str, int], ...]  # (unit price as exported, quantity)


N_CUSTOMERS = 150


def _customers() -> list[tuple[str, str, str | None]]:
    """(customer id, country, loyalty card): odd ids shop in Brazil (BRL), even ids in Germany (EUR)."""
    return [
        (f"C{k:03d}", "BR" if k % 2 else "DE", "L002" if k == 2 else None) for k in range(1, N_CUSTOMERS + 1)
    ]


def _orders() -> list[Order]:
    orders = [
        # Worked out by hand below: C001 buys in BRL before and on the BRL rate change of 2025-07-01.
        Order("O-C001-1", "C001", date(2025, 3, 10), "BRL", (("R$ 100.00", 2),)),
        Order("O-C001-2", "C001", date(2025, 7, 1), "BRL", (("100.00", 1), ("0.00", 1))),
        Order("O-C001-3", "C001", date(2025, 12, 20), "BRL", (("1,234.50", 1),)),
        # C002 buys in EUR, the reporting currency: no conversion at all.
        Order("O-C002-1", "C002", date(2025, 4, 2), "EUR", (("19.99", 3),)),
        # C003's order in XYZ has no rate: quarantined as unknown_currency, its lines with it.
        Order("O-C003-X", "C003", date(2025, 5, 5), "XYZ", (("50.00", 1),)),
    ]
    # Everyone else buys at their own pace and may stop (a BG/NBD-like shop, so the CLV models fit).
    rng = random.Random(9)
    for k in range(3, N_CUSTOMERS + 1):
        currency = "BRL" if k % 2 else "EUR"
        day = date(2025, 1, 1) + timedelta(days=rng.randrange(240))
        mean_gap = rng.choice((15, 30, 45, 60, 90, 150))
        stop = rng.choice((0.1, 0.2, 0.35, 0.6))
        j = 0
        while day <= AS_OF:
            price = f"{rng.randrange(5, 400)}.{rng.randrange(100):02d}"
            orders.append(Order(f"O-C{k:03d}-{j}", f"C{k:03d}", day, currency, ((price, rng.randrange(1, 4)),)))
            if rng.random() < stop:
                break
            day += timedelta(days=1 + int(rng.expovariate(1 / mean_gap)))
            j += 1
    return orders


STORE_SALE = Order("T-C002-1", "C002", date(2025, 8, 15), "BRL", (("45.50", 2),))  # by C002's loyalty card L002
SPEND = ("2025-02-01", "paid_social", "BRL", "1000.00")


def _table(name: str, rows: list[dict[str, Any]]) -> pa.Table:
    rt = TABLES[name]
    cols = {n: [r.get(n) for r in rows] for n in rt.column_names if n != "_loaded_at"}
    cols["_loaded_at"] = [LOADED_AT] * len(rows)
    return pa.table(cols, schema=rt.arrow_schema)


def _write_raw(raw: Path) -> None:
    tables: dict[str, list[dict[str, Any]]] = {rt.name: [] for rt in RAW_TABLES}
    for cid, country, card in _customers():
        tables["crm_customers"].append(
            {
                "customer_id": cid, "email": f"{cid.lower()}@shop.example", "first_name": "Ana",
                "last_name": cid, "loyalty_card_number": card, "country_code": country,
                "signup_at": "2025-01-01T09:00:00Z", "acquisition_channel": "paid_social",
                "marketing_consent": True, "updated_at": "2025-01-01T09:00:00Z",
            }
        )
    for o in _orders():
        tables["shop_orders"].append(
            {
                "order_id": o.order_id, "customer_id": o.customer_id, "channel": "web",
                "ordered_at": f"{o.day.isoformat()}T14:00:00Z", "status": "completed", "currency": o.currency,
                "discount_amount": "0.00", "shipping_amount": "0.00", "tax_amount": "0.00",
            }
        )
        for n, (price, qty) in enumerate(o.lines, 1):
            tables["shop_order_lines"].append(
                {
                    "order_line_id": f"{o.order_id}-{n}", "order_id": o.order_id, "sku": "SKU1",
                    "category": "apparel", "quantity": qty, "unit_price": price, "unit_cost": None,
                    "returned_quantity": 0,
                }
            )
    s = STORE_SALE
    tables["pos_transactions"].append(
        {
            "transaction_id": s.order_id, "store_id": "S1", "loyalty_card_number": "L002",
            "transacted_at": f"{s.day.isoformat()}T11:00:00Z", "status": "completed", "currency": s.currency,
            "discount_amount": "0.00", "tax_amount": "0.00",
        }
    )
    for n, (price, qty) in enumerate(s.lines, 1):
        tables["pos_transaction_lines"].append(
            {
                "transaction_line_id": f"{s.order_id}-{n}", "transaction_id": s.order_id, "sku": "SKU1",
                "category": "apparel", "quantity": qty, "unit_price": price, "unit_cost": None,
                "returned_quantity": 0,
            }
        )
    spend_date, channel, currency, amount = SPEND
    tables["marketing_spend"].append(
        {"spend_date": spend_date, "channel": channel, "currency": currency, "amount": amount}
    )
    for name, rows in tables.items():
        folder = raw / name
        folder.mkdir(parents=True)
        pq.write_table(_table(name, rows), folder / "part-00000.parquet")


# ---------------------------------------------------------------------------------------------
# The expected figures, from the seed's rates (the pipeline's rule re-done in Python).


def _rate(rates: dict[str, list[tuple[date, Decimal]]], code: str, day: date) -> Decimal:
    return [r for valid_from, r in rates[code] if valid_from <= day][-1]


def _factor(code: str, day: date, reporting: str = "EUR") -> Decimal:
    if code == reporting:
        return Decimal(1)
    rates = _seed_rates()
    return Decimal(float(_rate(rates, code, day)) / float(_rate(rates, reporting, day))).quantize(
        Decimal("1e-10"), ROUND_HALF_UP
    )


def _net_revenue(o: Order) -> Decimal:
    f = _factor(o.currency, o.day)
    prices = [Decimal(re.sub(r"[^0-9.]", "", p)) for p, _ in o.lines]  # 'R$ 100.00', '1,234.50'
    return sum(((p * f).quantize(CENT, ROUND_HALF_UP) * q for p, (_, q) in zip(prices, o.lines, strict=True)), CENT * 0)


@dataclass(frozen=True)
class Built:
    db: Path
    stdout: str


@pytest.fixture(scope="module")
def eur_build(tmp_path_factory: pytest.TempPathFactory) -> Built:
    tmp = tmp_path_factory.mktemp("currency")
    _write_raw(tmp / "raw")
    db = tmp / "warehouse.duckdb"
    result = run_dbt(tmp / "raw", db, "build", "--vars", f"{{reporting_currency: EUR, as_of_date: '{AS_OF}'}}")
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]
    return Built(db, result.stdout)


@pytest.fixture()
def con(eur_build: Built) -> Iterator[duckdb.DuckDBPyConnection]:
    c = duckdb.connect(str(eur_build.db), read_only=True)
    yield c
    c.close()


@pytest.mark.slow
def test_hand_worked_amounts_in_eur(con: duckdb.DuckDBPyConnection) -> None:
    revenue = dict(con.sql("select customer_id, net_revenue from marts.customers").fetchall())
    # BRL 100.00 x 2 on 2025-03-10: 0.1650 USD/BRL / 1.0850 USD/EUR = 0.1520737327 -> 15.21 EUR a unit;
    # BRL 100.00 on 2025-07-01 (the new BRL rate applies on its valid_from): 0.1800 / 1.0850 -> 16.59.
    # BRL 1,234.50 on 2025-12-20 (thousands separator): 1234.50 x 0.1658986175 = 204.80 EUR.
    assert revenue["C001"] == Decimal("30.42") + Decimal("16.59") + Decimal("204.80")
    # EUR 19.99 x 3 in EUR needs no rate; the store sale BRL 45.50 x 2 on 2025-08-15 at 0.1800 / 1.0850
    # = 7.55 EUR a unit (7.548...).
    assert revenue["C002"] == Decimal("59.97") + Decimal("15.10")
    spend = con.sql("select spend_amount, fx_rate_to_reporting from staging.stg_marketing__channel_spends").fetchall()
    assert spend == [(Decimal("152.07"), Decimal("0.1520737327"))]  # BRL 1000.00 on 2025-02-01


@pytest.mark.slow
def test_net_revenue_per_customer_and_month_to_the_cent(con: duckdb.DuckDBPyConnection) -> None:
    counted = [o for o in [*_orders(), STORE_SALE] if o.currency != "XYZ"]
    expected_customers: dict[str, Decimal] = {}
    expected_months: dict[date, Decimal] = {}
    for o in counted:
        expected_customers[o.customer_id] = expected_customers.get(o.customer_id, Decimal(0)) + _net_revenue(o)
        month = o.day.replace(day=1)
        expected_months[month] = expected_months.get(month, Decimal(0)) + _net_revenue(o)
    customers = dict(con.sql("select customer_id, net_revenue from marts.customers").fetchall())
    assert customers == expected_customers
    months = dict(
        con.sql(
            "select period_start_date, revenue from marts.kpi_monthly "
            "where dimension = 'overall' and revenue <> 0"
        ).fetchall()
    )
    assert months == expected_months


@pytest.mark.slow
def test_unknown_currency_is_quarantined_and_named_in_the_log(
    con: duckdb.DuckDBPyConnection, eur_build: Built
) -> None:
    quarantined = con.sql(
        "select source_table, record_key, quarantine_reason from marts.quarantined_rows order by 1, 2"
    ).fetchall()
    assert quarantined == [
        ("shop_order_lines", "O-C003-X-1", "parent_quarantined"),
        ("shop_orders", "O-C003-X", "unknown_currency"),
    ]
    warnings = [line for line in eur_build.stdout.splitlines() if "quarantined as unknown_currency" in line]
    assert len(warnings) == 1
    assert "1 shop_orders row in XYZ (no rate in seeds/fx_rates.csv into EUR" in warnings[0]


@pytest.mark.slow
def test_a_reporting_currency_without_rates_fails_at_once(tmp_path: Path) -> None:
    _write_raw(tmp_path / "raw")
    with build_pool() as pool:  # both refused builds side by side, each into its own warehouse
        without_rates, not_iso = (
            pool.submit(run_dbt, tmp_path / "raw", tmp_path / code / "w.duckdb", "build", "--vars",
                        f"{{reporting_currency: {code}}}")
            for code in ("xyz", "EURO")
        )
    result = without_rates.result()
    assert result.returncode != 0
    lines = [line for line in result.stdout.splitlines() if "reporting_currency 'XYZ' has no rate" in line]
    assert lines, result.stdout[-4000:]
    assert "add rows for it" in lines[0]
    # Nothing that converts money ran.
    assert "OK created sql view model staging.stg_shop__orders" not in result.stdout
    # A code that is not ISO-shaped stops the build before anything runs, also with one line.
    result = not_iso.result()
    assert result.returncode != 0
    assert "reporting_currency 'EURO' is not a three-letter ISO 4217 code" in result.stdout
    assert " START " not in result.stdout
