{#- Each customer's lifecycle stage as of the as-of date: the as-of row of
    int_customer_snapshots_staged (the rules of customer_lifecycle_history, applied once), with the
    date each stage started. The rules and their precedence are in _marts__docs.md (doc
    lifecycle_rules); every threshold is a dbt var. #}
with

lifecycle as (

    {#- The as-of row of the staged rules that also build customer_lifecycle_history. #}
    select * from {{ ref('int_customer_snapshots_staged') }}
    where is_as_of_date

),

customers as (

    select * from {{ ref('int_customers_resolved') }}

),

purchases as (

    select * from {{ ref('int_customer_purchases_summarised') }}

),

engagement as (

    select * from {{ ref('int_customer_engagement_aggregated') }}

),

predictions as (

    select * from {{ ref('int_customers_clv_predicted') }}

),

staged as (

    {#- The stage and its inputs, plus the dates only the as-of row needs to date the stage. A
        customer without a purchase has no purchase counts, gaps or thresholds. #}
    select
        lifecycle.customer_id,
        lifecycle.snapshot_date as as_of_date,
        lifecycle.lifecycle_stage,
        customers.signup_date,
        lifecycle.has_purchased,
        lifecycle.first_purchase_date,
        lifecycle.last_purchase_date,
        case when lifecycle.has_purchased then lifecycle.purchase_days end as purchase_days,
        lifecycle.days_since_last_purchase,
        lifecycle.days_since_first_purchase,
        lifecycle.median_gap_days,
        case when lifecycle.has_purchased then lifecycle.typical_gap_days end as typical_gap_days,
        case when lifecycle.has_purchased then lifecycle.at_risk_threshold_days end as at_risk_threshold_days,
        case when lifecycle.has_purchased then lifecycle.churn_threshold_days end as churn_threshold_days,
        case when lifecycle.has_purchased then lifecycle.purchase_days_last_365d end as purchase_days_last_365d,
        purchases.loyal_threshold_reached_date,
        lifecycle.reactivation_window_max_gap_days,
        lifecycle.reactivation_candidate_date,
        purchases.previous_purchase_date,
        lifecycle.has_advocacy_signal_365d as has_advocacy_signal,
        engagement.first_advocacy_signal_date_365d,
        lifecycle.churn_probability,
        predictions.low_p_alive_from_date,
        lifecycle.has_low_p_alive,
        lifecycle.is_churned,
        lifecycle.is_at_risk,
        lifecycle.is_reactivated,
        lifecycle.is_new,
        lifecycle.is_loyal
    from lifecycle
    inner join customers
        on lifecycle.customer_id = customers.customer_id
    left join purchases
        on lifecycle.customer_id = purchases.customer_id
    left join engagement
        on lifecycle.customer_id = engagement.customer_id
    left join predictions
        on lifecycle.customer_id = predictions.customer_id

),

stage_dates as (

    select
        *,
        {{ dbt.dateadd('day', 'cast(floor(churn_threshold_days) as integer) + 1', 'last_purchase_date') }}
            as churned_from_date,
        {{ dbt.dateadd('day', 'cast(floor(at_risk_threshold_days) as integer) + 1', 'last_purchase_date') }}
            as at_risk_from_date,
        {{ dbt.dateadd('day', var('new_customer_days'), 'first_purchase_date') }} as new_until_date,
        {#- A purchase that ended a gap longer than the at-risk threshold brought the customer back
            to active on that day. #}
        case
            when {{ dbt.datediff('previous_purchase_date', 'last_purchase_date', 'day') }} > at_risk_threshold_days
                then last_purchase_date
        end as returned_to_active_date
    from staged

),

final as (

    select
        stage_dates.customer_id,
        stage_dates.as_of_date,
        stage_dates.lifecycle_stage,
        cast(case stage_dates.lifecycle_stage
            when 'prospect' then stage_dates.signup_date
            when 'churned' then stage_dates.churned_from_date
            when 'at_risk'
                then least(
                        case
                            when stage_dates.days_since_last_purchase > stage_dates.at_risk_threshold_days
                                then stage_dates.at_risk_from_date
                        end,
                        case when stage_dates.has_low_p_alive then stage_dates.low_p_alive_from_date end
                    )
            when 'reactivated' then stage_dates.reactivation_candidate_date
            when 'new' then stage_dates.first_purchase_date
            when 'advocate'
                then greatest(stage_dates.first_advocacy_signal_date_365d, stage_dates.new_until_date)
            when 'loyal'
                then greatest(stage_dates.loyal_threshold_reached_date, stage_dates.new_until_date)
            else greatest(
                    stage_dates.new_until_date,
                    coalesce(stage_dates.returned_to_active_date, stage_dates.first_purchase_date)
                )
        end as date) as stage_started_date,
        stage_dates.first_purchase_date,
        stage_dates.last_purchase_date,
        stage_dates.purchase_days,
        stage_dates.purchase_days_last_365d,
        stage_dates.days_since_last_purchase,
        stage_dates.days_since_first_purchase,
        cast(stage_dates.median_gap_days as double) as median_gap_days,
        cast(round(stage_dates.typical_gap_days, 1) as double) as typical_gap_days,
        cast(round(stage_dates.at_risk_threshold_days, 1) as double) as at_risk_threshold_days,
        cast(round(stage_dates.churn_threshold_days, 1) as double) as churn_threshold_days,
        stage_dates.reactivation_window_max_gap_days as reactivation_gap_days,
        stage_dates.churn_probability,
        stage_dates.has_low_p_alive,
        stage_dates.has_advocacy_signal,
        stage_dates.is_new,
        stage_dates.is_loyal,
        stage_dates.is_at_risk,
        stage_dates.is_churned,
        stage_dates.is_reactivated
    from stage_dates

)

select * from final
