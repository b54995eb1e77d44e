{#- Each customer's lifecycle stage as of the as-of date. The rules and their precedence are in
    _marts__docs.md (doc lifecycle_rules); every threshold is a dbt var. #}
with

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

as_of as (

    select as_of_date from {{ ref('int_build_dates') }}

),

population as (

    {#- The population's typical gap: the median of the buyers' own median gaps. #}
    select coalesce(median(median_gap_days), 90) as population_gap_days
    from purchases
    where gap_count > 0

),

thresholds as (

    select
        purchases.*,
        population.population_gap_days,
        {{ lifecycle_typical_gap(
            'purchases.median_gap_days', 'purchases.gap_count', 'population.population_gap_days'
        ) }} as typical_gap_days
    from purchases
    cross join population

),

bounded as (

    select
        *,
        {{ lifecycle_churn_threshold('typical_gap_days') }} as churn_threshold_days
    from thresholds

),

with_at_risk as (

    select
        *,
        {{ lifecycle_at_risk_threshold('typical_gap_days', 'churn_threshold_days') }} as at_risk_threshold_days
    from bounded

),

flags as (

    select
        customers.customer_id,
        customers.signup_date,
        with_at_risk.customer_id is not null as has_purchased,
        with_at_risk.first_purchase_date,
        with_at_risk.last_purchase_date,
        with_at_risk.purchase_days,
        with_at_risk.days_since_last_purchase,
        with_at_risk.days_since_first_purchase,
        with_at_risk.median_gap_days,
        with_at_risk.typical_gap_days,
        with_at_risk.at_risk_threshold_days,
        with_at_risk.churn_threshold_days,
        with_at_risk.purchase_days_last_365d,
        with_at_risk.loyal_threshold_reached_date,
        with_at_risk.reactivation_window_max_gap_days,
        with_at_risk.reactivation_candidate_date,
        with_at_risk.previous_purchase_date,
        coalesce(engagement.has_advocacy_signal_365d, false) as has_advocacy_signal,
        engagement.first_advocacy_signal_date_365d,
        {{ lifecycle_is_churned('with_at_risk.days_since_last_purchase', 'with_at_risk.churn_threshold_days') }}
            as is_churned,
        predictions.churn_probability,
        predictions.low_p_alive_from_date,
        {{ lifecycle_has_low_p_alive('predictions.p_alive') }} as has_low_p_alive,
        {{ lifecycle_is_at_risk(
            'with_at_risk.days_since_last_purchase', 'with_at_risk.at_risk_threshold_days', 'predictions.p_alive'
        ) }} as is_at_risk,
        {{ lifecycle_is_reactivated(
            'with_at_risk.reactivation_window_max_gap_days', 'with_at_risk.churn_threshold_days'
        ) }} as is_reactivated,
        {{ lifecycle_is_new('with_at_risk.days_since_first_purchase') }} as is_new,
        {{ lifecycle_is_loyal('with_at_risk.purchase_days_last_365d') }} as is_loyal
    from customers
    left join with_at_risk
        on customers.customer_id = with_at_risk.customer_id
    left join engagement
        on customers.customer_id = engagement.customer_id
    left join predictions
        on customers.customer_id = predictions.customer_id

),

staged as (

    select
        flags.*,
        {{ lifecycle_stage(
            'flags.has_purchased', 'flags.is_churned', 'flags.is_at_risk', 'flags.is_reactivated',
            'flags.is_new', 'flags.has_advocacy_signal', 'flags.is_loyal'
        ) }} as lifecycle_stage
    from flags

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
        as_of.as_of_date,
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
    cross join as_of

)

select * from final
