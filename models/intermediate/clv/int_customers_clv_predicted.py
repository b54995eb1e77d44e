"""Score every buyer with the chosen purchase model and the spend model: expected purchases,
expected spend, CLV and the dates the lifecycle uses.

A model int_clv_models_fitted could not fit leaves its columns null (lifecycle.clv_pipeline.
score_customers): no purchase model, no expected purchases / revenue / CLV; no spend model, no
expected spend / revenue / CLV.
"""

from lifecycle.clv_pipeline import as_date, fits_from_parameters, score_customers, settings_from_config


def model(dbt, session):
    settings = settings_from_config(dbt.config.get("clv_settings"))
    parameters = dbt.ref("int_clv_models_fitted").df()
    summary = dbt.ref("int_customers_clv_summarised").df()
    fits = fits_from_parameters(parameters)
    return score_customers(summary, fits, as_date(parameters["as_of_date"].iloc[0]), settings)
