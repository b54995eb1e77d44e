"""Fit every purchase model (BG/NBD, MBG/NBD, Pareto/NBD) and Gamma-Gamma by maximum likelihood on
every buyer as of the as-of date, and choose the purchase model of the marts.

One row per purchase model: its parameters, standard errors, log-likelihood and holdout score (from
int_clv_backtest_evaluated), whether it is the chosen one (var clv_model: auto = the lowest holdout
score), or null with a status (insufficient_data, not_converged, degenerate) and a plain-words
reason when the data cannot support it (doc block clv_model_status). A fit the data cannot support
never fails the build; an invalid summary (a broken upstream model) still raises
lifecycle.clv.ClvFitError.
"""

from lifecycle.clv_pipeline import as_date, fit_outcome, holdout_scores, parameters_rows, settings_from_config


def model(dbt, session):
    settings = settings_from_config(dbt.config.get("clv_settings"))
    summary = dbt.ref("int_customers_clv_summarised").df()
    scores = holdout_scores(dbt.ref("int_clv_backtest_evaluated").df())
    build_dates = dbt.ref("int_build_dates").df()
    as_of_date = as_date(build_dates["as_of_date"].iloc[0])
    return parameters_rows(fit_outcome(summary, settings, scores), as_of_date, settings, scores)
