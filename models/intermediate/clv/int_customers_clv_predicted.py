"""Score every buyer with the fitted models: p_alive, expected purchases, expected spend, CLV.

A model int_clv_models_fitted could not fit leaves its columns null (lifecycle.clv_pipeline.
score_customers): no purchase model, no p_alive / expected purchases / revenue / CLV; no spend
model, no expected spend / revenue / CLV.
"""

from lifecycle.clv_pipeline import ClvSettings, as_date, fits_from_parameters, score_customers


def model(dbt, session):
    dbt.config(materialized="table")
    # dbt hands a Python model only the config keys it reads with literal dbt.config.get("...")
    # calls (found by parsing this file), so each CLV model spells its keys out here.
    settings = ClvSettings(
        horizon_days=int(dbt.config.get("clv_horizon_days")),
        annual_discount_rate=float(dbt.config.get("clv_annual_discount_rate")),
        holdout_days=int(dbt.config.get("clv_holdout_days")),
        at_risk_p_alive=float(dbt.config.get("at_risk_p_alive")),
    )
    parameters = dbt.ref("int_clv_models_fitted").df().iloc[0]
    summary = dbt.ref("int_customers_clv_summarised").df()
    bg, gg = fits_from_parameters(parameters)
    return score_customers(summary, bg, gg, as_date(parameters["as_of_date"]), settings)
