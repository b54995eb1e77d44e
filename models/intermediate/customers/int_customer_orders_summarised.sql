{#- One row per customer with at least one order by the as-of date (purchases, cancellations,
    returns and credit notes alike): order counts and net revenue as the sum of all the customer's
    lines (orders_rules), overall and in the trailing windows of revenue_windows_days(). A customer
    whose only orders were cancelled or credited is here with no purchase. #}
{%- set windows = revenue_windows_days() -%}
with

orders as (

    select * from {{ ref('int_orders_netted') }}

),

as_of as (

    select as_of_date from {{ ref('int_build_dates') }}

),

order_facts as (

    select
        orders.*,
        {{ dbt.datediff("orders.order_date", "as_of.as_of_date", "day") }} as days_ago
    from orders
    cross join as_of
    where orders.customer_id is not null

),

final as (

    select
        customer_id,
        count(*) as orders,
        count(case when is_purchase then 1 end) as purchase_orders,
        count(case when order_status = 'cancelled' then 1 end) as cancelled_orders,
        count(case when has_return then 1 end) as returned_orders,
        count(case when credit_line_count > 0 then 1 end) as credited_orders,
        sum(returned_amount + credit_amount) as returned_amount,
        sum(net_revenue) as net_revenue,
        sum(margin_amount) as margin_amount,
        sum(case when margin_amount is not null then net_revenue end) as cost_known_revenue,
        count(case when is_purchase and has_discount then 1 end) as discounted_orders,
        count(distinct case when is_purchase and channel in ('web', 'app') then order_date end)
            as online_purchase_days,
        count(distinct case when is_purchase and channel = 'store' then order_date end)
            as store_purchase_days,
        count(case when is_purchase and channel = 'web' then 1 end) as web_orders,
        count(case when is_purchase and channel = 'app' then 1 end) as app_orders,
        count(case when is_purchase and channel = 'store' then 1 end) as store_orders,
        {% for w in windows %}
            coalesce(sum(case when days_ago < {{ w }} then net_revenue end), 0) as net_revenue_last_{{ w }}d,
            coalesce(sum(case when days_ago >= {{ w }} and days_ago < {{ 2 * w }} then net_revenue end), 0)
                as net_revenue_prior_{{ w }}d{% if not loop.last %},{% endif %}
        {% endfor %}
    from order_facts
    group by 1

)

select * from final
