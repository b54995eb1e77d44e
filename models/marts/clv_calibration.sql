{#- Does a predicted probability mean what it says? For every purchase model's calibration fit
    (data up to as_of_date minus clv_holdout_days), the customers in ten equal-count bins of their
    predicted probability of buying at least once in the holdout, beside the share of them who did.
    A well-calibrated model has observed_share_bought close to mean_predicted_probability in every
    decile. A model whose calibration fit failed has no rows. #}
with

evaluated as (

    select * from {{ ref('int_clv_backtest_evaluated') }}
    where breakdown = 'purchase_probability_decile'

),

chosen as (

    select purchase_model from {{ ref('int_clv_models_fitted') }}
    where is_chosen

),

final as (

    select
        evaluated.purchase_model || '|' || evaluated.bucket as calibration_row_id,
        evaluated.purchase_model,
        chosen.purchase_model is not null as is_chosen_model,
        cast(evaluated.as_of_date as date) as as_of_date,
        cast(evaluated.calibration_end_date as date) as calibration_end_date,
        cast(evaluated.holdout_days as bigint) as holdout_days,
        cast(evaluated.bucket_order as bigint) as probability_decile,
        cast(evaluated.customers as bigint) as customers,
        evaluated.min_predicted_probability,
        evaluated.max_predicted_probability,
        evaluated.mean_predicted_probability,
        evaluated.observed_share_bought,
        evaluated.observed_share_bought - evaluated.mean_predicted_probability as calibration_error,
        evaluated.mean_p_alive
    from evaluated
    left join chosen
        on evaluated.purchase_model = chosen.purchase_model

)

select * from final
