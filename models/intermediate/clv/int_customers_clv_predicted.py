"""Score every buyer with the fitted models: p_alive, expected purchases, expected spend, CLV.

A model int_clv_models_fitted could not fit leaves its columns null (lifecycle.clv_pipeline.
score_customers): no purchase model, no p_alive / expected purchases / revenue / CLV; no spend
model, no expected spend / revenue / CLV.
"""

from lifecycle.clv_pipeline import as_date, fits_from_parameters, score_customers, settings_from_config


def model(dbt, session):
    settings = settings_from_config(dbt.config.get("clv_settings"))
    parameters = dbt.ref("int_clv_models_fitted").df().iloc[0]
    summary = dbt.ref("int_customers_clv_summarised").df()
    bg, gg = fits_from_parameters(parameters)
    return score_customers(summary, bg, gg, as_date(parameters["as_of_date"]), settings)
