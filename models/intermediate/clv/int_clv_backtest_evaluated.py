"""Backtest: refit on data up to as_of_date - clv_holdout_days, predict the holdout, compare.

A calibration period that cannot be fitted (or is empty: a history shorter than the holdout) gives
status-marked rows with the actual holdout purchases and null predictions, never a failure.
"""

from lifecycle.clv_pipeline import ClvSettings, as_date, backtest


def model(dbt, session):
    dbt.config(materialized="table")
    # dbt hands a Python model only the config keys it reads with literal dbt.config.get("...")
    # calls (found by parsing this file), so each CLV model spells its keys out here.
    settings = ClvSettings(
        horizon_days=int(dbt.config.get("clv_horizon_days")),
        annual_discount_rate=float(dbt.config.get("clv_annual_discount_rate")),
        holdout_days=int(dbt.config.get("clv_holdout_days")),
        min_repeat_buyers=int(dbt.config.get("clv_min_repeat_buyers")),
    )
    purchase_days = dbt.ref("int_purchase_days_aggregated").df()
    as_of = dbt.ref("int_build_dates").df()
    as_of_date = as_date(as_of["as_of_date"].iloc[0])
    return backtest(purchase_days, as_of_date, settings)
