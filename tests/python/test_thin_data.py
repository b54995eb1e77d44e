"""Thin and odd data sets build end to end: import -> dbt build -> every mart, no error.

Each hand-written export of ``thin_data_sets`` goes through the importer and a full ``dbt build``
(models, contracts, data and unit tests) into its own warehouse. What a small shop must get:

* the build succeeds with no error and no skipped node; when the CLV models cannot be fitted the
  log says so once, as a warning (the ``clv_models_not_fitted_...`` test), never as an error;
* ``clv_model_parameters.model_status`` is what the data supports (fitted only for the 300
  customers with enough repeat buyers);
* the lifecycle, KPI and history marts are built and non-empty, with every customer, their net
  revenue to the cent and their purchase days;
* predictive columns are null (``clv_tier`` 'not_predicted') exactly when not fitted, and the
  backtest is status-marked rather than missing.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import Future
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from conftest import build_pool, run_dbt, selected_params
from thin_data_sets import DATA_SETS, write_csv

from lifecycle.importer import import_transactions

pytestmark = pytest.mark.slow

WARN_TEST = "clv_models_not_fitted_predictions_left_empty_see_clv_model_parameters"

# What each data set supports: (model_status, the purchase model's status (the chosen one's, or
# BG/NBD's when none is chosen), gamma_gamma_status, BG/NBD's backtest status).
EXPECTED_STATUS = {
    "three_hundred": ("fitted", "fitted", "fitted", "fitted"),
    "no_repeat": ("insufficient_data", "insufficient_data", "insufficient_data", "insufficient_data"),
    # Enough repeat buyers as of today; by the calibration end (180 days back) only 7 of 67 had repeated.
    "same_quarter": ("fitted", "fitted", "fitted", "insufficient_data"),
    # 40 repeat buyers in 30 days. Both likelihoods rise monotonically to their homogeneous limits
    # (BG/NBD: a, b -> inf, every customer drops out with probability a/(a+b) = 0.475; Gamma-Gamma:
    # q, gamma -> inf, one spend rate for everybody, the observed spread being per-purchase noise),
    # which the fits reach at the optimiser's box whatever the rounding: that is the maximum
    # likelihood answer, so fitted. (It used to be not_converged or fitted depending on the machine:
    # the old likelihoods were rounding noise along those ridges.) No one had bought by the
    # calibration end.
    "thirty_days": ("fitted", "fitted", "fitted", "insufficient_data"),
    "single_customer": ("insufficient_data", "insufficient_data", "insufficient_data", "insufficient_data"),
}


@dataclass(frozen=True)
class Built:
    name: str
    rows: list[tuple[str, object, float]]
    db: Path
    stdout: str


def _build(name: str, rows: list[tuple[str, object, float]], tmp: Path) -> Built:
    db = tmp / "warehouse.duckdb"
    result = run_dbt(tmp / "raw", db, "build")
    assert result.returncode == 0, f"{name}:\n{result.stdout[-6000:]}{result.stderr[-3000:]}"
    return Built(name, rows, db, result.stdout)


@pytest.fixture(scope="module")
def builds(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Future[Built]]]:
    """Every data set the selected tests use, imported and built side by side (conftest.build_pool)."""
    with build_pool() as pool:
        futures = {}
        for name in selected_params(request, "built"):
            tmp = tmp_path_factory.mktemp(name)
            rows = DATA_SETS[name]()
            export = write_csv(rows, tmp / "export.csv")
            import_transactions(
                export, tmp / "raw", customer_col="customer_id", date_col="order_date", amount_col="amount"
            )
            futures[name] = pool.submit(_build, name, rows, tmp)
        yield futures


@pytest.fixture(scope="module", params=sorted(DATA_SETS))
def built(request: pytest.FixtureRequest, builds: dict[str, Future[Built]]) -> Built:
    return builds[request.param].result()


@pytest.fixture()
def con(built: Built) -> Iterator[duckdb.DuckDBPyConnection]:
    c = duckdb.connect(str(built.db), read_only=True)
    yield c
    c.close()


def test_build_has_no_error_and_warns_once_when_not_fitted(built: Built, con: duckdb.DuckDBPyConnection) -> None:
    assert " ERROR=0 " in built.stdout and " SKIP=0 " in built.stdout
    (status,) = con.sql("select model_status from marts.clv_model_parameters").fetchone()  # type: ignore[misc]
    warned = built.stdout.count(f"WARN 1 {WARN_TEST}")
    assert warned == (0 if status == "fitted" else 1)


def test_model_status_is_what_the_data_supports(built: Built, con: duckdb.DuckDBPyConnection) -> None:
    got = con.sql(
        "select model_status, purchase_model_status, gamma_gamma_status, model_status_reason, r, p "
        "from marts.clv_model_parameters order by is_chosen desc, purchase_model = 'bg_nbd' desc"
    ).fetchall()
    assert len(got) == 3
    status, bgnbd, gamma_gamma, reason, r, p = got[0]
    (backtest_status,) = con.sql(
        "select distinct model_status from marts.clv_backtest where purchase_model = 'bg_nbd'"
    ).fetchone()  # type: ignore[misc]
    assert (status, bgnbd, gamma_gamma, backtest_status) == EXPECTED_STATUS[built.name]
    assert (r is None) == (bgnbd != "fitted") and (p is None) == (gamma_gamma != "fitted")
    assert reason  # plain words, never empty
    if built.name in ("no_repeat", "single_customer"):
        assert reason.startswith(
            "No customer bought on more than one day"
            if built.name == "no_repeat"
            else "Only 1 customer bought anything; the purchase model (BG/NBD) needs at least 30 buyers"
        )


def test_lifecycle_kpi_and_history_marts_are_built(built: Built, con: duckdb.DuckDBPyConnection) -> None:
    customers = {c for c, _, _ in built.rows}
    for mart in ("customer_lifecycle", "customer_segments", "customer_clv"):
        assert con.sql(f"select count(*) from marts.{mart}").fetchone() == (len(customers),), mart
    for mart in ("kpi_monthly", "customer_lifecycle_history", "clv_backtest"):
        (n,) = con.sql(f"select count(*) from marts.{mart}").fetchone()  # type: ignore[misc]
        assert n > 0, mart
    # Every cent and every purchase day of the export reaches the marts.
    (revenue,) = con.sql("select sum(historical_revenue) from marts.customer_clv").fetchone()  # type: ignore[misc]
    assert revenue == sum(Decimal(f"{a:.2f}") for _, _, a in built.rows)
    (days,) = con.sql("select sum(purchase_days) from marts.customer_lifecycle").fetchone()  # type: ignore[misc]
    assert days == len({(c, d) for c, d, _ in built.rows})


def test_predictive_columns_are_null_exactly_when_not_fitted(built: Built, con: duckdb.DuckDBPyConnection) -> None:
    bgnbd, gamma_gamma, one_time_p_alive = con.sql(
        "select case when bool_or(is_chosen) then 'fitted' else 'not fitted' end, any_value(gamma_gamma_status), "
        "coalesce(bool_or(is_chosen and purchase_model <> 'bg_nbd'), false) from marts.clv_model_parameters"
    ).fetchone()  # type: ignore[misc]
    n, one_time, p_alive, purchases, spend, clv, not_predicted, low_p_alive = con.sql(
        """
        select
            count(*),
            count(*) filter (where clv.frequency = 0),
            count(clv.p_alive),
            count(clv.expected_purchases),
            count(clv.expected_avg_order_value),
            count(clv.predicted_clv),
            count(*) filter (where clv.clv_tier = 'not_predicted'),
            count(*) filter (where lc.has_low_p_alive)
        from marts.customer_clv as clv
        inner join marts.customer_lifecycle as lc using (customer_id)
        where clv.has_purchased
        """
    ).fetchone()  # type: ignore[misc]
    purchase_model = n if bgnbd == "fitted" else 0
    spend_model = n if gamma_gamma == "fitted" else 0
    # p_alive: every scored buyer, except BG/NBD's one-time buyers (the model cannot tell).
    assert purchases == purchase_model
    assert p_alive == (purchase_model if one_time_p_alive or not purchase_model else purchase_model - one_time)
    assert spend == spend_model
    assert clv == min(purchase_model, spend_model)
    assert not_predicted == n - clv
    if bgnbd != "fitted":  # the p_alive at-risk rule is skipped
        assert low_p_alive == 0
        assert con.sql("select count(p_alive) from marts.customer_lifecycle_history").fetchone() == (0,)
