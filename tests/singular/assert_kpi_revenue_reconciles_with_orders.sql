{#- kpi_monthly loses and invents no revenue: summed over every period of the overall rows, the
    revenue and purchase orders equal the net revenue of the known customers' orders (credit notes
    and cancellations included) and the count of their purchases in int_orders_netted, and the
    anonymous revenue equals that of the orders tied to no customer, from the first day of the
    history's first period to the as-of date. Returns one row with both sides when either differs. #}
with

kpis as (

    select * from {{ ref('kpi_monthly') }}

),

orders as (

    select * from {{ ref('int_orders_netted') }}

),

as_of as (

    select as_of_date from {{ ref('int_build_dates') }}

),

window_start as (

    select min(period_start_date) as first_period_start_date
    from kpis

),

kpi_totals as (

    select
        coalesce(sum(revenue), 0) as revenue,
        coalesce(sum(purchase_orders), 0) as purchase_orders,
        coalesce(sum(anonymous_revenue), 0) as anonymous_revenue
    from kpis
    where dimension = 'overall'

),

order_totals as (

    select
        coalesce(sum(case when orders.customer_id is not null then orders.net_revenue end), 0) as revenue,
        count(case when orders.customer_id is not null and orders.is_purchase then 1 end) as purchase_orders,
        coalesce(sum(case when orders.customer_id is null then orders.net_revenue end), 0) as anonymous_revenue
    from orders
    cross join as_of
    cross join window_start
    where
        orders.order_date <= as_of.as_of_date
        and orders.order_date >= window_start.first_period_start_date

)

select
    kpi_totals.revenue as kpi_revenue,
    order_totals.revenue as orders_revenue,
    kpi_totals.purchase_orders as kpi_purchase_orders,
    order_totals.purchase_orders as orders_purchase_orders,
    kpi_totals.anonymous_revenue as kpi_anonymous_revenue,
    order_totals.anonymous_revenue as orders_anonymous_revenue
from kpi_totals
cross join order_totals
where
    kpi_totals.revenue <> order_totals.revenue
    or kpi_totals.purchase_orders <> order_totals.purchase_orders
    or kpi_totals.anonymous_revenue <> order_totals.anonymous_revenue
