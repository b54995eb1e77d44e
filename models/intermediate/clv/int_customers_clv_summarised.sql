{#- One row per buyer: the BG/NBD and Gamma-Gamma inputs in days as of the as-of date, unrounded,
    as the reference CLV libraries define them (repeat purchases are distinct purchase days). #}
with

purchases as (

    select * from {{ ref('int_customer_purchases_summarised') }}

),

as_of as (

    select as_of_date from {{ ref('int_build_dates') }}

),

final as (

    select
        purchases.customer_id,
        as_of.as_of_date,
        purchases.purchase_days - 1 as frequency,
        {{ dbt.datediff("purchases.first_purchase_date", "purchases.last_purchase_date", "day") }}
            as recency_days,
        {{ dbt.datediff("purchases.first_purchase_date", "as_of.as_of_date", "day") }} as tenure_days,
        cast(purchases.avg_repeat_day_revenue as double) as avg_repeat_day_revenue,
        cast(purchases.margin_amount / nullif(purchases.cost_known_revenue, 0) as double) as margin_rate
    from purchases
    cross join as_of

)

select * from final
