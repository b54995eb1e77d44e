{#- The lifecycle stage of every customer at every snapshot date (history month ends, the as-of
    date and the segment-migration comparison date), by the same rules as customer_lifecycle: both
    call the macros in macros/lifecycle_rules.sql. The probability of being alive uses this build's
    BG/NBD parameters. #}
with

snapshots as (

    select * from {{ ref('int_customer_snapshots_summarised') }}

),

parameters as (

    select * from {{ ref('int_clv_models_fitted') }}

),

population as (

    {#- The population's typical gap at each snapshot: the median of the buyers' median gaps. #}
    select
        snapshot_date,
        coalesce(median(case when gap_count > 0 then median_gap_days end), 90) as population_gap_days
    from snapshots
    group by 1

),

thresholds as (

    select
        snapshots.*,
        {{ lifecycle_typical_gap(
            'snapshots.median_gap_days', 'snapshots.gap_count', 'population.population_gap_days'
        ) }} as typical_gap_days,
        case
            when snapshots.has_purchased
                then {{ bgnbd_p_alive(
                    'snapshots.purchase_days - 1',
                    dbt.datediff('snapshots.first_purchase_date', 'snapshots.last_purchase_date', 'day'),
                    'snapshots.days_since_first_purchase',
                    'parameters.r', 'parameters.alpha', 'parameters.a', 'parameters.b'
                ) }}
        end as p_alive
    from snapshots
    inner join population
        on snapshots.snapshot_date = population.snapshot_date
    cross join parameters

),

bounded as (

    select
        *,
        {{ lifecycle_churn_threshold('typical_gap_days') }} as churn_threshold_days
    from thresholds

),

flagged as (

    select
        *,
        {{ lifecycle_at_risk_threshold('typical_gap_days', 'churn_threshold_days') }} as at_risk_threshold_days
    from bounded

),

staged as (

    select
        *,
        {{ lifecycle_stage(
            'has_purchased',
            lifecycle_is_churned('days_since_last_purchase', 'churn_threshold_days'),
            lifecycle_is_at_risk('days_since_last_purchase', 'at_risk_threshold_days', 'p_alive'),
            lifecycle_is_reactivated('reactivation_window_max_gap_days', 'churn_threshold_days'),
            lifecycle_is_new('days_since_first_purchase'),
            'has_advocacy_signal_365d',
            lifecycle_is_loyal('purchase_days_last_365d')
        ) }} as lifecycle_stage
    from flagged

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
        purchase_days,
        purchase_days_last_365d,
        days_since_last_purchase,
        typical_gap_days,
        p_alive,
        period_net_revenue,
        period_purchase_days
    from staged

)

select * from final
