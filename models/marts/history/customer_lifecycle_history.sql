{#- Every customer's lifecycle stage at every month end from their first known activity to the
    as-of date (and at the as-of date itself), by the same rules as customer_lifecycle: both call
    the macros in macros/lifecycle_rules.sql (through int_customer_snapshots_staged). Recomputed
    from the data on every build, so a rebuild reproduces history. #}
with

snapshots as (

    select * from {{ ref('int_customer_snapshots_staged') }}
    where is_history_snapshot

),

final as (

    select
        customer_snapshot_id,
        customer_id,
        snapshot_date,
        is_as_of_date,
        lifecycle_stage,
        lag(lifecycle_stage) over (partition by customer_id order by snapshot_date) as previous_stage,
        has_purchased,
        purchase_days,
        purchase_days_last_365d,
        days_since_last_purchase,
        cast(round(typical_gap_days, 1) as double) as typical_gap_days,
        cast(p_alive as double) as p_alive,
        cast(period_net_revenue as decimal(18, 2)) as period_net_revenue,
        period_purchase_days
    from snapshots

)

select * from final
