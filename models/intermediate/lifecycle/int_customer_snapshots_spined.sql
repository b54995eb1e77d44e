{#- One row per customer per snapshot date: every month end from the month of the customer's
    first known activity (sign-up or first purchase, not before the first month with any purchase
    in the data) to the as-of date, plus the as-of date itself when it is not a month end
    (is_history_snapshot), and the comparison date of segment_migration (int_build_dates) for
    customers active by then (is_comparison_snapshot). #}
with recursive

customers as (

    select * from {{ ref('int_customers_resolved') }}

),

purchases as (

    select * from {{ ref('int_customer_purchases_summarised') }}

),

as_of as (

    select
        as_of_date,
        comparison_date
    from {{ ref('int_build_dates') }}

),

first_purchases as (

    select
        customer_id,
        first_purchase_date
    from purchases

),

data_start as (

    select cast({{ dbt.date_trunc('month', 'min(first_purchase_date)') }} as date) as first_month
    from first_purchases

),

months as (

    {#- A recursive month spine (dbt.date_spine queries the warehouse at compile time). #}
    select data_start.first_month as date_month
    from data_start

    union all

    select cast({{ dbt.dateadd('month', 1, 'months.date_month') }} as date) as date_month
    from months
    cross join as_of
    where months.date_month <= as_of.as_of_date

),

candidate_dates as (

    select
        cast({{ dbt.last_day('months.date_month', 'month') }} as date) as snapshot_date,
        true as is_history_date,
        false as is_comparison_date
    from months
    cross join as_of
    where cast({{ dbt.last_day('months.date_month', 'month') }} as date) < as_of.as_of_date

    union all

    select
        as_of_date as snapshot_date,
        true as is_history_date,
        false as is_comparison_date
    from as_of

    union all

    {#- The comparison date of segment_migration (int_build_dates). #}
    select
        comparison_date as snapshot_date,
        false as is_history_date,
        true as is_comparison_date
    from as_of

),

snapshot_dates as (

    select
        snapshot_date,
        {{ dbt.bool_or('is_history_date') }} as is_history_date,
        {{ dbt.bool_or('is_comparison_date') }} as is_comparison_date
    from candidate_dates
    group by 1

),

activity as (

    select
        customers.customer_id,
        least(
            coalesce(customers.signup_date, first_purchases.first_purchase_date),
            coalesce(first_purchases.first_purchase_date, customers.signup_date)
        ) as first_activity_date
    from customers
    left join first_purchases
        on customers.customer_id = first_purchases.customer_id

),

history_starts as (

    {#- History rows run from the month end of the first activity (customers with no known
        activity date, or a first activity after the as-of date, get the as-of date only). #}
    select
        activity.customer_id,
        activity.first_activity_date,
        least(
            coalesce(cast({{ dbt.last_day('activity.first_activity_date', 'month') }} as date), as_of.as_of_date),
            as_of.as_of_date
        ) as history_start_date
    from activity
    cross join as_of

),

starts as (

    {#- The earliest date a customer's snapshot can fall on: the history start, or the first
        activity (the comparison row exists when the first activity came on or before the
        comparison date). #}
    select
        customer_id,
        first_activity_date,
        history_start_date,
        least(history_start_date, coalesce(first_activity_date, history_start_date)) as first_snapshot_date
    from history_starts

),

in_range as (

    {#- A range join on the customer's first possible snapshot date: no customer x date grid. #}
    select
        starts.customer_id,
        snapshot_dates.snapshot_date,
        snapshot_dates.snapshot_date = as_of.as_of_date as is_as_of_date,
        snapshot_dates.is_history_date and snapshot_dates.snapshot_date >= starts.history_start_date
            as is_history_snapshot,
        snapshot_dates.is_comparison_date
        and starts.first_activity_date <= snapshot_dates.snapshot_date as is_comparison_snapshot
    from starts
    inner join snapshot_dates
        on starts.first_snapshot_date <= snapshot_dates.snapshot_date
    cross join as_of

),

final as (

    select
        customer_id,
        snapshot_date,
        is_as_of_date,
        is_history_snapshot,
        is_comparison_snapshot,
        {{ dbt.concat(["customer_id", "'|'", "cast(snapshot_date as varchar)"]) }} as customer_snapshot_id
    from in_range
    where is_history_snapshot or is_comparison_snapshot

)

select * from final
