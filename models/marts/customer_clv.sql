{#- Historical value and the inputs of the BG/NBD and Gamma-Gamma models, in days, as the
    reference CLV libraries define them: frequency = repeat purchase days, recency_days = first to
    last purchase day, tenure_days = first purchase day to the as-of date, avg_repeat_order_value =
    mean spend per repeat purchase day (the first purchase day excluded). #}
with

customers as (

    select * from {{ ref('customers') }}

),

purchases as (

    select * from {{ ref('int_customer_purchases_summarised') }}

),

final as (

    select
        customers.customer_id,
        customers.as_of_date,
        customers.has_purchased,
        cast(coalesce(purchases.net_revenue, 0) as decimal(18, 2)) as historical_revenue,
        cast(purchases.margin_amount as decimal(18, 2)) as historical_margin,
        cast(
            purchases.margin_amount / nullif(purchases.cost_known_revenue, 0) as double
        ) as historical_margin_rate,
        cast(purchases.net_revenue / nullif(purchases.purchase_orders, 0) as decimal(18, 2))
            as avg_order_value,
        cast(
            {{ dbt.datediff("purchases.first_purchase_date", "purchases.last_purchase_date", "day") }} * 1.0
            / nullif(purchases.purchase_days - 1, 0)
            as double
        ) as avg_days_between_purchases,
        purchases.purchase_days - 1 as frequency,
        {{ dbt.datediff("purchases.first_purchase_date", "purchases.last_purchase_date", "day") }}
            as recency_days,
        {{ dbt.datediff("purchases.first_purchase_date", "customers.as_of_date", "day") }} as tenure_days,
        cast(purchases.avg_repeat_day_revenue as decimal(18, 2)) as avg_repeat_order_value
    from customers
    left join purchases
        on customers.customer_id = purchases.customer_id

)

select * from final
