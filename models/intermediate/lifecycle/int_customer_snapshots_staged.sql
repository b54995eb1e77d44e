{#- The lifecycle stage of every customer at every snapshot date (history month ends, the as-of
    date and the segment-migration comparison date): the rules of macros/lifecycle_rules.sql,
    applied once, to the inputs of int_customer_snapshots_summarised. customer_lifecycle is its
    as-of row, customer_lifecycle_history its history rows, segment_migration reads its comparison
    rows. #}
with

summarised as (

    select * from {{ ref('int_customer_snapshots_summarised') }}

),

patterns as (

    select * from {{ ref('int_customer_snapshot_patterns_scored') }}

),

snapshots as (

    {#- The build's one p_alive: the chosen purchase model's, scored once per distinct
        (frequency, recency_days, tenure_days); null without a purchase or a purchase model, and
        for BG/NBD's one-time buyers (lifecycle.clv_pipeline.reported_p_alive). #}
    select
        summarised.*,
        patterns.p_alive
    from summarised
    left join patterns
        on
            summarised.frequency = patterns.frequency
            and summarised.recency_days = patterns.recency_days
            and summarised.days_since_first_purchase = patterns.tenure_days

),

population as (

    {#- The population's typical gap at each snapshot: the median of the buyers' median gaps. #}
    select
        snapshot_date,
        coalesce(
            median(case when gap_count > 0 then median_gap_days end), {{ var('population_gap_fallback_days') }}
        ) as population_gap_days
    from snapshots
    group by 1

),

thresholds as (

    select
        snapshots.*,
        {{ lifecycle_typical_gap(
            'snapshots.median_gap_days', 'snapshots.gap_count', 'population.population_gap_days'
        ) }} as typical_gap_days
    from snapshots
    inner join population
        on snapshots.snapshot_date = population.snapshot_date

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
        *,
        {{ lifecycle_is_churned('days_since_last_purchase', 'churn_threshold_days', 'p_alive') }} as is_churned,
        {{ lifecycle_has_low_p_alive('p_alive') }} as has_low_p_alive,
        {{ lifecycle_is_at_risk('days_since_last_purchase', 'at_risk_threshold_days', 'p_alive') }} as is_at_risk,
        {{ lifecycle_is_reactivated('reactivation_window_max_gap_days', 'churn_threshold_days') }} as is_reactivated,
        {{ lifecycle_is_new('days_since_first_purchase') }} as is_new,
        {{ lifecycle_is_loyal('purchase_days_last_365d') }} as is_loyal
    from with_at_risk

),

staged as (

    select
        *,
        {{ lifecycle_stage(
            'has_purchased', 'is_churned', 'is_at_risk', 'is_reactivated',
            'is_new', 'has_advocacy_signal_365d', 'is_loyal'
        ) }} as lifecycle_stage
    from flags

),

final as (

    select
        customer_snapshot_id,
        customer_id,
        snapshot_date,
        is_as_of_date,
        is_history_snapshot,
        is_comparison_snapshot,
        lifecycle_stage,
        has_purchased,
        first_purchase_date,
        last_purchase_date,
        purchase_days,
        purchase_days_last_365d,
        days_since_last_purchase,
        days_since_first_purchase,
        median_gap_days,
        typical_gap_days,
        at_risk_threshold_days,
        churn_threshold_days,
        reactivation_window_max_gap_days,
        reactivation_candidate_date,
        p_alive,
        1.0 - p_alive as churn_probability,
        has_advocacy_signal_365d,
        is_new,
        is_loyal,
        has_low_p_alive,
        is_at_risk,
        is_churned,
        is_reactivated,
        period_net_revenue,
        period_purchase_days
    from staged

)

select * from final
