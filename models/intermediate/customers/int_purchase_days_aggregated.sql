{#- One row per customer per purchase day (a purchase occasion, the unit the CLV models count in:
    a day with a purchase that its same-day cancellations, returns and credits do not cancel; rule
    in doc block orders_rules), with the day's net spend (same-day credits included) and the gap
    in days since the previous purchase day. #}
with

orders as (

    select * from {{ ref('int_orders_netted') }}

),

days as (

    select
        customer_id,
        order_date as purchase_date,
        count(case when is_purchase then 1 end) as orders,
        sum(net_revenue) as net_revenue,
        sum(margin_amount) as margin_amount,
        sum(case when margin_amount is not null then net_revenue end) as cost_known_revenue,
        count(distinct case when is_purchase then channel end) as channels
    from orders
    where customer_id is not null
    group by 1, 2
    having bool_or(is_purchase)

),

final as (

    select
        {{ dbt.concat(["customer_id", "'|'", "cast(purchase_date as varchar)"]) }} as customer_purchase_day_id,
        customer_id,
        purchase_date,
        row_number() over (partition by customer_id order by purchase_date) as purchase_day_number,
        orders,
        net_revenue,
        margin_amount,
        cost_known_revenue,
        {{ dbt.datediff(
            "lag(purchase_date) over (partition by customer_id order by purchase_date)",
            "purchase_date",
            "day"
        ) }} as gap_days
    from days

)

select * from final
