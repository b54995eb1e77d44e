{#- kpi_monthly loses and invents no revenue: summed over every period of the overall rows, the
    revenue and purchase orders equal the net revenue and count of the known customers' purchases
    (anonymous sales excluded) in int_orders_netted, from the first day of the history's first
    period to the as-of date. Returns one row with both sides when either differs. #}
with

kpis as (

    select * from {{ ref('kpi_monthly') }}

),

orders as (

    select * from {{ ref('int_orders_netted') }}

),

as_of as (

    select as_of_date from {{ ref('int_as_of_date') }}

),

window_start as (

    select min(period_start_date) as first_period_start_date
    from kpis

),

kpi_totals as (

    select
        coalesce(sum(revenue), 0) as revenue,
        coalesce(sum(purchase_orders), 0) as purchase_orders
    from kpis
    where dimension = 'overall'

),

order_totals as (

    select
        coalesce(sum(orders.net_revenue), 0) as revenue,
        count(*) as purchase_orders
    from orders
    cross join as_of
    cross join window_start
    where
        orders.is_purchase
        and orders.customer_id is not null
        and orders.order_date <= as_of.as_of_date
        and orders.order_date >= window_start.first_period_start_date

)

select
    kpi_totals.revenue as kpi_revenue,
    order_totals.revenue as orders_revenue,
    kpi_totals.purchase_orders as kpi_purchase_orders,
    order_totals.purchase_orders as orders_purchase_orders
from kpi_totals
cross join order_totals
where
    kpi_totals.revenue <> order_totals.revenue
    or kpi_totals.purchase_orders <> order_totals.purchase_orders
