"""Small hand-written transaction exports for the thin / odd data set tests (test_thin_data.py).

Each function returns the rows of a plain ``customer_id,order_date,amount`` export, written by a
few explicit lines (not by lifecycle.generate), shaped like what a small shop exports:

* ``three_hundred`` - 300 customers over two years, about 60% of them repeat buyers (seeded draws
  of a purchase rate, a dropout chance and a spend level per customer), enough to fit both models.
* ``no_repeat`` - 80 customers who each bought once: nothing to learn repeat behaviour from.
* ``same_quarter`` - 120 customers, every one acquired in Q1 2025, some buying again until autumn.
* ``thirty_days`` - 100 customers, the whole history inside June 2025.
* ``single_customer`` - one customer with four purchase days.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import numpy as np

Row = tuple[str, date, float]


def three_hundred() -> list[Row]:
    rng = np.random.default_rng(300)
    start, span = date(2024, 1, 1), 730
    rows: list[Row] = []
    for i in range(300):
        day = int(rng.integers(0, span - 30))
        rate = rng.gamma(0.8, 1 / 40)  # purchase days per day while active
        dropout = rng.beta(1.0, 3.0)  # chance to stop after each purchase
        mean_spend = 20 + rng.gamma(3.0, 15.0)
        while day < span:
            rows.append(
                (f"C{i:04d}", start + timedelta(days=day), round(float(rng.gamma(4.0, mean_spend / 4)) + 0.01, 2))
            )
            if rng.random() < dropout:
                break
            day += 1 + int(rng.exponential(1 / rate))
    return rows


def no_repeat() -> list[Row]:
    return [(f"N{i:03d}", date(2025, 1, 1) + timedelta(days=(i * 4) % 360), 10.0 + i) for i in range(80)]


def same_quarter() -> list[Row]:
    rows: list[Row] = []
    for i in range(120):
        first = date(2025, 1, 1) + timedelta(days=(i * 7) % 90)
        # Every other customer comes back, every 30-50 days, 1 to 4 times.
        repeats = 0 if i % 2 else 1 + i % 4
        for k in range(repeats + 1):
            rows.append((f"Q{i:03d}", first + timedelta(days=k * (30 + i % 21)), 25.0 + (i * 7 + k * 3) % 40))
    return rows


def thirty_days() -> list[Row]:
    rows: list[Row] = []
    for i in range(100):
        first = date(2025, 6, 1) + timedelta(days=i % 20)
        repeats = (0, 0, 1, 2, 0)[i % 5]
        for k in range(repeats + 1):
            rows.append((f"T{i:03d}", first + timedelta(days=k * (3 + i % 4)), 15.0 + (i * 3 + k) % 50))
    return rows


def single_customer() -> list[Row]:
    return [
        ("S001", date(2025, 3, 1) + timedelta(days=d), a) for d, a in ((0, 40.0), (35, 22.5), (80, 61.0), (150, 18.25))
    ]


DATA_SETS: dict[str, Callable[[], list[Row]]] = {
    "three_hundred": three_hundred,
    "no_repeat": no_repeat,
    "same_quarter": same_quarter,
    "thirty_days": thirty_days,
    "single_customer": single_customer,
}


def write_csv(rows: list[Row], path: Path) -> Path:
    """The export as a retailer would send it (ISO dates, amounts with two decimals)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["customer_id", "order_date", "amount"])
        for customer, day, amount in rows:
            w.writerow([customer, day.isoformat(), f"{amount:.2f}"])
    return path
