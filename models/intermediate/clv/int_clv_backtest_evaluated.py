"""Backtest: refit on data up to as_of_date - clv_holdout_days, predict the holdout, compare.

A calibration period that cannot be fitted (or is empty: a history shorter than the holdout) gives
status-marked rows with the actual holdout purchases and null predictions, never a failure.
"""

from lifecycle.clv_pipeline import as_date, backtest, settings_from_config


def model(dbt, session):
    settings = settings_from_config(dbt.config.get("clv_settings"))
    purchase_days = dbt.ref("int_purchase_days_aggregated").df()
    build_dates = dbt.ref("int_build_dates").df()
    as_of_date = as_date(build_dates["as_of_date"].iloc[0])
    return backtest(purchase_days, as_of_date, settings)
