{#- The fitted BG/NBD and Gamma-Gamma parameters of this build (time unit: day), their
    log-likelihoods, the customers they were fitted on and how the optimiser did; or, for a model
    the data cannot support, null parameters and a model_status with a plain-words reason. One row. #}
with

fitted as (

    select * from {{ ref('int_clv_models_fitted') }}

),

final as (

    select
        cast(as_of_date as date) as as_of_date,
        time_unit,
        model_status,
        model_status_reason,
        bgnbd_status,
        gamma_gamma_status,
        model_status_detail,
        r,
        alpha,
        a,
        b,
        p,
        q,
        gamma,
        bgnbd_log_likelihood,
        gamma_gamma_log_likelihood,
        cast(bgnbd_customers as bigint) as bgnbd_customers,
        cast(bgnbd_patterns as bigint) as bgnbd_patterns,
        cast(gamma_gamma_customers as bigint) as gamma_gamma_customers,
        is_converged,
        cast(bgnbd_iterations as bigint) as bgnbd_iterations,
        cast(gamma_gamma_iterations as bigint) as gamma_gamma_iterations,
        fit_seconds,
        population_avg_order_value,
        cast(horizon_days as bigint) as clv_horizon_days,
        annual_discount_rate as clv_annual_discount_rate
    from fitted

)

select * from final
