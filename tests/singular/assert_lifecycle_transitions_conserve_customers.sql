{#- Conservation of customers in the stage flows:
    1. per period, the customers in the transitions equal the customers in the history;
    2. the customers flowing out of each stage in a period equal the customers who were in that
       stage at the previous snapshot (nobody appears from or vanishes into nowhere).
    Returns the periods and stages where either fails. #}
with

history as (

    select * from {{ ref('customer_lifecycle_history') }}

),

transitions as (

    select * from {{ ref('lifecycle_transitions') }}

),

periods as (

    select
        snapshot_date,
        lag(snapshot_date) over (order by snapshot_date) as previous_snapshot_date
    from (select distinct snapshot_date from history) as dates

),

history_counts as (

    select
        snapshot_date,
        count(*) as customers
    from history
    group by 1

),

transition_counts as (

    select
        snapshot_date,
        sum(customers) as customers
    from transitions
    group by 1

),

stage_counts as (

    select
        snapshot_date,
        lifecycle_stage,
        count(*) as customers
    from history
    group by 1, 2

),

outflows as (

    select
        snapshot_date,
        from_stage,
        sum(customers) as customers
    from transitions
    where from_stage <> 'none'
    group by 1, 2

),

totals_mismatch as (

    select
        coalesce(history_counts.snapshot_date, transition_counts.snapshot_date) as snapshot_date,
        'all' as stage,
        history_counts.customers as expected_customers,
        transition_counts.customers as actual_customers
    from history_counts
    full outer join transition_counts
        on history_counts.snapshot_date = transition_counts.snapshot_date
    where history_counts.customers is distinct from transition_counts.customers

),

flow_mismatch as (

    select
        periods.snapshot_date,
        stage_counts.lifecycle_stage as stage,
        stage_counts.customers as expected_customers,
        outflows.customers as actual_customers
    from periods
    inner join stage_counts
        on periods.previous_snapshot_date = stage_counts.snapshot_date
    left join outflows
        on periods.snapshot_date = outflows.snapshot_date and stage_counts.lifecycle_stage = outflows.from_stage
    where stage_counts.customers is distinct from outflows.customers

)

select * from totals_mismatch
union all
select * from flow_mismatch
