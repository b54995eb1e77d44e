"""Fit BG/NBD and Gamma-Gamma by maximum likelihood on every buyer as of the as-of date.

One row: each model's parameters, or null with a model_status (insufficient_data, not_converged,
degenerate) and a plain-words reason when the data cannot support it (doc block clv_model_status).
A fit the data cannot support never fails the build; an invalid summary (a broken upstream model)
still raises lifecycle.clv.ClvFitError.
"""

from lifecycle.clv_pipeline import as_date, fit_outcome, parameters_row, settings_from_config


def model(dbt, session):
    settings = settings_from_config(dbt.config.get("clv_settings"))
    summary = dbt.ref("int_customers_clv_summarised").df()
    build_dates = dbt.ref("int_build_dates").df()
    as_of_date = as_date(build_dates["as_of_date"].iloc[0])
    return parameters_row(fit_outcome(summary, settings), None, as_of_date, settings)
