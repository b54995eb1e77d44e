"""The build's one p_alive, once per distinct purchase pattern of the lifecycle snapshots.

Every (frequency, recency_days, tenure_days) that some customer has at some snapshot date is
scored with the chosen purchase model of int_clv_models_fitted (lifecycle.clv_pipeline.
reported_p_alive): customers and snapshots share patterns, so the model runs on far fewer rows than
the snapshots. p_alive is null for every pattern when no purchase model could be used.
"""

from lifecycle.clv_pipeline import fits_from_parameters, score_snapshot_patterns


def model(dbt, session):
    fits = fits_from_parameters(dbt.ref("int_clv_models_fitted").df())
    patterns = (
        dbt.ref("int_customer_snapshots_summarised")
        .filter("has_purchased")
        .project("frequency, recency_days, days_since_first_purchase as tenure_days")
        .distinct()
        .order("frequency, recency_days, tenure_days")
        .df()
    )
    return score_snapshot_patterns(patterns, fits)
