{#- For every customer and snapshot date (int_customer_snapshots_spined): the purchase history as
    it stood at the end of that day, with every input the lifecycle rules need, computed here only
    (customer_lifecycle is the as-of row of this chain): purchase days, gaps, days since the first
    and last purchase, purchase days in the trailing 365 days, the reactivation gap, the advocacy
    signal and the purchase model's inputs (frequency, recency, tenure) at the snapshot. Each
    purchase day holds the customer's running state until the next one, so a snapshot finds its
    state (and the state 365 days before it) by one range join on that interval: no sort of the
    snapshots, no aggregate over them; the trailing windows use small range joins. #}
with

snapshots as (

    select * from {{ ref('int_customer_snapshots_spined') }}

),

purchase_days as (

    select * from {{ ref('int_purchase_days_aggregated') }}

),

interactions as (

    select * from {{ ref('int_customer_interactions_unioned') }}

),

running as (

    {#- The customer's state from each purchase day until the day before the next one. #}
    select
        customer_id,
        purchase_date,
        purchase_day_number,
        min(purchase_date) over (partition by customer_id) as first_purchase_date,
        median(gap_days) over (
            partition by customer_id order by purchase_date rows between unbounded preceding and current row
        ) as median_gap_days,
        coalesce(
            lead(purchase_date) over (partition by customer_id order by purchase_date),
            cast('9999-12-31' as date)
        ) as next_purchase_date,
        net_revenue
    from purchase_days

),

reactivation_gaps as (

    {#- The largest gap that ended in the reactivation window before the snapshot (the window's
        first purchase day, without a gap, ends none), and the purchase day that ended it. #}
    select
        snapshots.customer_id,
        snapshots.snapshot_date,
        max(purchase_days.gap_days) as reactivation_window_max_gap_days,
        arg_max(purchase_days.purchase_date, purchase_days.gap_days) as reactivation_candidate_date
    from snapshots
    inner join purchase_days
        on
            snapshots.customer_id = purchase_days.customer_id
            and snapshots.snapshot_date >= purchase_days.purchase_date
            and {{ dbt.dateadd('day', -var('reactivation_window_days'), 'snapshots.snapshot_date') }}
            < purchase_days.purchase_date
    group by 1, 2

),

advocacy as (

    select
        snapshots.customer_id,
        snapshots.snapshot_date,
        true as has_advocacy_signal_365d
    from snapshots
    inner join interactions
        on
            snapshots.customer_id = interactions.customer_id
            and snapshots.snapshot_date >= interactions.occurred_date
            and {{ dbt.dateadd('day', -365, 'snapshots.snapshot_date') }} < interactions.occurred_date
    where interactions.is_advocacy_signal
    group by 1, 2

),

period_revenue as (

    {#- Net revenue of the purchase days in the period that ends on each snapshot date. #}
    select
        customer_id,
        cast({{ dbt.last_day('purchase_date', 'month') }} as date) as period_end_date,
        sum(net_revenue) as net_revenue,
        count(*) as purchase_days
    from purchase_days
    group by 1, 2

),

first_purchases as (

    select distinct
        customer_id,
        first_purchase_date
    from running

),

summarised as (

    {#- at_snapshot: the purchase day whose state interval holds the snapshot date; year_before:
        the one whose interval holds the date 365 days before it (the purchase days up to then are
        the ones outside the trailing year). #}
    select
        snapshots.customer_snapshot_id,
        snapshots.customer_id,
        snapshots.snapshot_date,
        snapshots.is_as_of_date,
        snapshots.is_history_snapshot,
        snapshots.is_comparison_snapshot,
        at_snapshot.purchase_day_number is not null as has_purchased,
        case when at_snapshot.purchase_day_number is not null then first_purchases.first_purchase_date end
            as first_purchase_date,
        at_snapshot.purchase_date as last_purchase_date,
        coalesce(at_snapshot.purchase_day_number, 0) as purchase_days,
        greatest(coalesce(at_snapshot.purchase_day_number, 0) - 1, 0) as gap_count,
        at_snapshot.median_gap_days,
        {{ dbt.datediff('at_snapshot.purchase_date', 'snapshots.snapshot_date', 'day') }}
            as days_since_last_purchase,
        {{ dbt.datediff('first_purchases.first_purchase_date', 'snapshots.snapshot_date', 'day') }}
            as days_since_first_purchase,
        coalesce(at_snapshot.purchase_day_number, 0) - coalesce(year_before.purchase_day_number, 0)
            as purchase_days_last_365d,
        reactivation_gaps.reactivation_window_max_gap_days,
        reactivation_gaps.reactivation_candidate_date,
        coalesce(advocacy.has_advocacy_signal_365d, false) as has_advocacy_signal_365d,
        {#- Periods are months (to the as-of date); a comparison-only date has no period. #}
        case when snapshots.is_history_snapshot then coalesce(period_revenue.net_revenue, 0) end
            as period_net_revenue,
        case when snapshots.is_history_snapshot then coalesce(period_revenue.purchase_days, 0) end
            as period_purchase_days
    from snapshots
    left join running as at_snapshot
        on
            snapshots.customer_id = at_snapshot.customer_id
            and snapshots.snapshot_date >= at_snapshot.purchase_date
            and snapshots.snapshot_date < at_snapshot.next_purchase_date
    left join running as year_before
        on
            snapshots.customer_id = year_before.customer_id
            and cast({{ dbt.dateadd('day', -365, 'snapshots.snapshot_date') }} as date) >= year_before.purchase_date
            and cast({{ dbt.dateadd('day', -365, 'snapshots.snapshot_date') }} as date) < year_before.next_purchase_date
    left join first_purchases
        on snapshots.customer_id = first_purchases.customer_id
    left join reactivation_gaps
        on
            snapshots.customer_id = reactivation_gaps.customer_id
            and snapshots.snapshot_date = reactivation_gaps.snapshot_date
    left join advocacy
        on snapshots.customer_id = advocacy.customer_id and snapshots.snapshot_date = advocacy.snapshot_date
    left join period_revenue
        on
            snapshots.customer_id = period_revenue.customer_id
            and cast({{ dbt.last_day('snapshots.snapshot_date', 'month') }} as date) = period_revenue.period_end_date

),

final as (

    select
        *,
        {#- The purchase model's inputs at the snapshot (days): frequency = purchase_days - 1,
            recency_days, tenure_days = days_since_first_purchase; p_alive is scored on them
            (int_customer_snapshot_patterns_scored). #}
        case when has_purchased then purchase_days - 1 end as frequency,
        {{ dbt.datediff('first_purchase_date', 'last_purchase_date', 'day') }} as recency_days
    from summarised

)

select * from final
