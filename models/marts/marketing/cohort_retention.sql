{#- Monthly acquisition cohorts (month of the first purchase) followed month by month up to the
    as-of month: cohort size, customers active in the month, retention rate, the month's revenue
    and the realised LTV curve. One row per cohort and month since first purchase, the last
    (as-of) month flagged when it is not complete. Definitions: _marketing__docs.md. #}
with

customers as (

    select * from {{ ref('customers') }}

),

purchase_days as (

    select * from {{ ref('int_purchase_days_aggregated') }}

),

orders as (

    select * from {{ ref('int_orders_netted') }}

),

as_of as (

    select as_of_date from {{ ref('int_build_dates') }}

),

month_offsets as (

    {#- 0..1199: a hundred years of months, filtered to each cohort's months below. #}
    select cast(generated_number - 1 as integer) as months_since_first_purchase
    from ({{ dbt.generate_series(1200) }}) as series

),

buyers as (

    select
        customer_id,
        {{ cohort_month('first_purchase_date') }} as cohort_month
    from customers
    where has_purchased

),

cohorts as (

    select
        cohort_month,
        count(*) as cohort_customers
    from buyers
    group by 1

),

cohort_months as (

    select
        cohorts.cohort_month,
        cohorts.cohort_customers,
        month_offsets.months_since_first_purchase,
        cast(
            {{ dbt.dateadd('month', 'month_offsets.months_since_first_purchase', 'cohorts.cohort_month') }}
            as date
        ) as activity_month,
        as_of.as_of_date
    from cohorts
    cross join as_of
    inner join month_offsets
        on
            month_offsets.months_since_first_purchase
            <= {{ dbt.datediff('cohorts.cohort_month', 'as_of.as_of_date', 'month') }}

),

monthly_activity as (

    select
        buyers.cohort_month,
        cast({{ dbt.date_trunc('month', 'purchase_days.purchase_date') }} as date) as activity_month,
        count(distinct purchase_days.customer_id) as active_customers,
        count(*) as purchase_days
    from purchase_days
    inner join buyers
        on purchase_days.customer_id = buyers.customer_id
    group by 1, 2

),

monthly_revenue as (

    {#- Net revenue of every order of the cohort's customers (credit notes included, orders_rules),
        by month; a credit booked before the first purchase counts in the cohort month. #}
    select
        buyers.cohort_month,
        greatest(cast({{ dbt.date_trunc('month', 'orders.order_date') }} as date), buyers.cohort_month)
            as activity_month,
        sum(orders.net_revenue) as net_revenue
    from orders
    inner join buyers
        on orders.customer_id = buyers.customer_id
    group by 1, 2

),

joined as (

    select
        cohort_months.*,
        coalesce(monthly_activity.active_customers, 0) as active_customers,
        coalesce(monthly_activity.purchase_days, 0) as purchase_days,
        coalesce(monthly_revenue.net_revenue, 0) as net_revenue
    from cohort_months
    left join monthly_activity
        on
            cohort_months.cohort_month = monthly_activity.cohort_month
            and cohort_months.activity_month = monthly_activity.activity_month
    left join monthly_revenue
        on
            cohort_months.cohort_month = monthly_revenue.cohort_month
            and cohort_months.activity_month = monthly_revenue.activity_month

),

cumulated as (

    select
        *,
        sum(net_revenue) over (
            partition by cohort_month
            order by months_since_first_purchase
            rows between unbounded preceding and current row
        ) as cumulative_net_revenue
    from joined

),

final as (

    select
        as_of_date,
        cohort_month,
        months_since_first_purchase,
        activity_month,
        cast({{ dbt.last_day('activity_month', 'month') }} as date) > as_of_date as is_partial_month,
        cast(cohort_customers as bigint) as cohort_customers,
        cast(active_customers as bigint) as active_customers,
        cast(active_customers * 1.0 / cohort_customers as double) as retention_rate,
        cast(purchase_days as bigint) as purchase_days,
        cast(net_revenue as decimal(18, 2)) as net_revenue,
        cast(cumulative_net_revenue as decimal(18, 2)) as cumulative_net_revenue,
        cast(cumulative_net_revenue / cohort_customers as decimal(18, 2)) as cumulative_revenue_per_customer
    from cumulated

)

select * from final
