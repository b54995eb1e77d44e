"""Fit BG/NBD and Gamma-Gamma by maximum likelihood on every buyer as of the as-of date.

One row: each model's parameters, or null with a model_status (insufficient_data, not_converged,
degenerate) and a plain-words reason when the data cannot support it (doc block clv_model_status).
A fit the data cannot support never fails the build; an invalid summary (a broken upstream model)
still raises lifecycle.clv.ClvFitError.
"""

from lifecycle.clv_pipeline import ClvSettings, as_date, fit_outcome, parameters_row


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
    summary = dbt.ref("int_customers_clv_summarised").df()
    as_of = dbt.ref("int_build_dates").df()
    as_of_date = as_date(as_of["as_of_date"].iloc[0])
    return parameters_row(fit_outcome(summary, settings), None, as_of_date, settings)
