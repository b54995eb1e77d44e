{#- Holdout backtest of the BG/NBD model, refitted on data up to as_of_date minus clv_holdout_days:
    predicted against actual repeat purchase days in the holdout, in total, by calibration
    frequency (0..6, 7+) and as a weekly cumulative curve. The calibration-vs-holdout chart the
    CLV literature asks for, as a table a BI tool can plot. A calibration period that cannot be
    fitted gives the actual holdout purchases with null predictions and its model_status. #}
with

evaluated as (

    select * from {{ ref('int_clv_backtest_evaluated') }}

),

final as (

    select
        breakdown || '|' || bucket as backtest_row_id,
        cast(as_of_date as date) as as_of_date,
        cast(calibration_end_date as date) as calibration_end_date,
        cast(holdout_days as bigint) as holdout_days,
        model_status,
        model_status_reason,
        breakdown,
        bucket,
        cast(bucket_order as bigint) as bucket_order,
        cast(customers as bigint) as customers,
        actual_repeat_purchases,
        predicted_repeat_purchases,
        predicted_repeat_purchases - actual_repeat_purchases as prediction_error,
        correlation as per_customer_correlation,
        mean_absolute_error as per_customer_mean_absolute_error,
        r as calibration_r,
        alpha as calibration_alpha,
        a as calibration_a,
        b as calibration_b
    from evaluated

)

select * from final
