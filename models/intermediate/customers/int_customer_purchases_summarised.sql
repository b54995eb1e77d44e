{#- One row per customer with at least one purchase by the as-of date: the order history, the
    gaps between purchase days, RFM inputs, CLV inputs, the recency windows (last 30/90/180/365
    days and the equal window before each, for trend) and channel, category and discount habits.
    Money and order counts come from int_customer_orders_summarised (every order, credits
    included); purchase-day counts from the purchase occasions. #}
{%- set windows = revenue_windows_days() -%}
with

purchase_days as (

    select * from {{ ref('int_purchase_days_aggregated') }}

),

orders as (

    select * from {{ ref('int_orders_netted') }}

),

order_summary as (

    select * from {{ ref('int_customer_orders_summarised') }}

),

as_of as (

    select as_of_date from {{ ref('int_build_dates') }}

),

day_facts as (

    select
        purchase_days.*,
        {{ dbt.datediff("purchase_days.purchase_date", "as_of.as_of_date", "day") }} as days_ago,
        row_number() over (
            partition by purchase_days.customer_id order by purchase_days.purchase_date desc
        ) as purchase_day_number_desc
    from purchase_days
    cross join as_of

),

day_summary as (

    select
        customer_id,
        min(purchase_date) as first_purchase_date,
        max(purchase_date) as last_purchase_date,
        count(*) as purchase_days,
        sum(case when purchase_day_number = 1 then net_revenue end) as first_day_revenue,
        avg(case when purchase_day_number > 1 then net_revenue end) as avg_repeat_day_revenue,
        count(gap_days) as gap_count,
        median(gap_days) as median_gap_days,
        avg(gap_days) as mean_gap_days,
        max(gap_days) as max_gap_days,
        max(case when purchase_day_number_desc = 2 then purchase_date end) as previous_purchase_date,
        {#- The date the customer reached the loyalty threshold inside the trailing 365 days. #}
        max(case
            when purchase_day_number_desc = {{ var('loyal_min_purchase_days_365') }} and days_ago < 365
                then purchase_date
        end) as loyal_threshold_reached_date,
        {% for w in windows %}
            count(case when days_ago < {{ w }} then 1 end) as purchase_days_last_{{ w }}d,
            count(case when days_ago >= {{ w }} and days_ago < {{ 2 * w }} then 1 end)
                as purchase_days_prior_{{ w }}d{% if not loop.last %},{% endif %}
        {% endfor %}
    from day_facts
    group by 1

),

category_revenue as (

    select
        customer_id,
        top_category as category,
        sum(net_revenue) as net_revenue
    from orders
    where customer_id is not null and is_purchase and top_category is not null
    group by 1, 2

),

favourite_category as (

    select
        customer_id,
        category as favourite_category
    from category_revenue
    {#- Ties go to the alphabetically first category, so the choice is deterministic. #}
    qualify row_number() over (partition by customer_id order by net_revenue desc, category asc) = 1

),

final as (

    select
        day_summary.*,
        order_summary.net_revenue,
        order_summary.margin_amount,
        order_summary.cost_known_revenue,
        {% for w in windows %}
            order_summary.net_revenue_last_{{ w }}d,
            order_summary.net_revenue_prior_{{ w }}d,
        {% endfor %}
        {{ dbt.datediff("day_summary.last_purchase_date", "as_of.as_of_date", "day") }}
            as days_since_last_purchase,
        {{ dbt.datediff("day_summary.first_purchase_date", "as_of.as_of_date", "day") }}
            as days_since_first_purchase,
        order_summary.orders,
        order_summary.purchase_orders,
        order_summary.cancelled_orders,
        order_summary.returned_orders,
        order_summary.returned_amount,
        order_summary.discounted_orders,
        order_summary.online_purchase_days,
        order_summary.store_purchase_days,
        order_summary.web_orders,
        order_summary.app_orders,
        order_summary.store_orders,
        favourite_category.favourite_category
    from day_summary
    cross join as_of
    inner join order_summary
        on day_summary.customer_id = order_summary.customer_id
    left join favourite_category
        on day_summary.customer_id = favourite_category.customer_id

)

select * from final
