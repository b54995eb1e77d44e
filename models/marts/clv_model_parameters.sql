{#- Every purchase model fitted in this build (BG/NBD, MBG/NBD, Pareto/NBD; time unit day), with
    its parameters, standard errors, log-likelihood and holdout score, which one the marts use and
    why; and the build's Gamma-Gamma spend model on every row. A model the data cannot support has
    null parameters and a status with a plain-words reason. One row per purchase model. #}
with

fitted as (

    select * from {{ ref('int_clv_models_fitted') }}

),

final as (

    select
        purchase_model,
        cast(as_of_date as date) as as_of_date,
        time_unit,
        purchase_model_label,
        clv_model_setting,
        is_chosen,
        choice_reason,
        model_status,
        model_status_reason,
        model_status_detail,
        purchase_model_status,
        purchase_model_status_reason,
        gamma_gamma_status,
        r,
        alpha,
        a,
        b,
        s,
        beta,
        r_se,
        alpha_se,
        a_se,
        b_se,
        s_se,
        beta_se,
        log_covariance,
        purchase_model_log_likelihood,
        cast(purchase_model_customers as bigint) as purchase_model_customers,
        cast(purchase_model_patterns as bigint) as purchase_model_patterns,
        cast(purchase_model_iterations as bigint) as purchase_model_iterations,
        holdout_score,
        p,
        q,
        gamma,
        p_se,
        q_se,
        gamma_se,
        gamma_gamma_log_likelihood,
        cast(gamma_gamma_customers as bigint) as gamma_gamma_customers,
        cast(gamma_gamma_iterations as bigint) as gamma_gamma_iterations,
        is_converged,
        fit_seconds,
        population_avg_order_value,
        cast(horizon_days as bigint) as clv_horizon_days,
        annual_discount_rate as clv_annual_discount_rate
    from fitted

)

select * from final
