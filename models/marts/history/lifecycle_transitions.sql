{#- Movement between lifecycle stages: for every snapshot date (month end, and the as-of date),
    from the stage at the previous snapshot to the stage at this one, the number of customers who
    made that move and their net revenue in the period. A customer's first snapshot comes from
    'none'. Every customer counted in a month is in exactly one row of that month. #}
with

history as (

    select * from {{ ref('customer_lifecycle_history') }}

),

final as (

    select
        {{ dbt.concat([
            "cast(snapshot_date as varchar)", "'|'", "coalesce(previous_stage, 'none')", "'|'", "lifecycle_stage"
        ]) }} as transition_id,
        snapshot_date,
        max(is_as_of_date) as is_as_of_date,
        coalesce(previous_stage, 'none') as from_stage,
        lifecycle_stage as to_stage,
        count(*) as customers,
        cast(sum(period_net_revenue) as decimal(18, 2)) as period_net_revenue
    from history
    group by 1, 2, 4, 5

)

select * from final
