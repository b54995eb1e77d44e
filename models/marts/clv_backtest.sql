{#- Holdout backtest of every purchase model, each refitted on data up to as_of_date minus
    clv_holdout_days: predicted against actual repeat purchase days in the holdout, in total (with
    the holdout score the model choice uses), by calibration frequency (0..6, 7+) and as a weekly
    cumulative curve. The calibration-vs-holdout chart the CLV literature asks for, one curve per
    model, as a table a BI tool can plot. A calibration period that cannot be fitted gives the
    actual holdout purchases with null predictions and its model_status. #}
with

evaluated as (

    select * from {{ ref('int_clv_backtest_evaluated') }}
    where breakdown in ('total', 'calibration_frequency', 'week')

),

chosen as (

    select purchase_model from {{ ref('int_clv_models_fitted') }}
    where is_chosen

),

final as (

    select
        evaluated.purchase_model || '|' || evaluated.breakdown || '|' || evaluated.bucket as backtest_row_id,
        evaluated.purchase_model,
        chosen.purchase_model is not null as is_chosen_model,
        cast(evaluated.as_of_date as date) as as_of_date,
        cast(evaluated.calibration_end_date as date) as calibration_end_date,
        cast(evaluated.holdout_days as bigint) as holdout_days,
        evaluated.model_status,
        evaluated.model_status_reason,
        evaluated.breakdown,
        evaluated.bucket,
        cast(evaluated.bucket_order as bigint) as bucket_order,
        cast(evaluated.customers as bigint) as customers,
        evaluated.actual_repeat_purchases,
        evaluated.predicted_repeat_purchases,
        evaluated.predicted_repeat_purchases - evaluated.actual_repeat_purchases as prediction_error,
        evaluated.correlation as per_customer_correlation,
        evaluated.mean_absolute_error as per_customer_mean_absolute_error,
        evaluated.holdout_score,
        evaluated.r as calibration_r,
        evaluated.alpha as calibration_alpha,
        evaluated.a as calibration_a,
        evaluated.b as calibration_b,
        evaluated.s as calibration_s,
        evaluated.beta as calibration_beta
    from evaluated
    left join chosen
        on evaluated.purchase_model = chosen.purchase_model

)

select * from final
