{#- Monthly customer KPIs, overall and by the customer's current preferred channel, region and
    acquisition channel: one row per period (the history's snapshot dates: month ends and the
    as-of date) per dimension value. Definitions: _kpi__docs.md.

    The KPIs are written once, in macros/kpi_metrics.sql, and summed per period and combination of
    the breakdown values by int_kpi_monthly_cube; here the breakdowns are one aggregation of that
    small cube, one grouping per breakdown, so no step multiplies customer rows, and the rates are
    computed once, at the end, from those sums. #}

{%- set breakdowns = kpi_monthly_breakdowns() -%}
{%- set metrics = kpi_monthly_metrics() -%}


with

kpi_cube as (

    select * from {{ ref('int_kpi_monthly_cube') }}

),

as_of as (

    select as_of_date from {{ ref('int_build_dates') }}

),

customer_groups as (

    select * from kpi_cube
    where not is_anonymous_sales

),

rolled_up as (

    {#- The breakdowns in one aggregation of the small cube: grouped by each breakdown's value,
        and by none for the overall row (macros/grouping.sql). #}
    select
        period_end_date,
        {{ breakdown_name(breakdowns, 'overall') }} as dimension,
        {{ breakdown_value(breakdowns, 'all') }} as dimension_value,
        {% for metric in metrics %}
            sum({{ metric.name }}) as {{ metric.name }}{% if not loop.last %},{% endif %}
        {% endfor %}
    from customer_groups
    {{ group_by_each_breakdown(['period_end_date'], breakdowns) }}

),

anonymous_sales as (

    {#- The orders of no customer, per period: in the overall revenue only. #}
    select
        period_end_date,
        anonymous_purchase_orders,
        anonymous_revenue
    from kpi_cube
    where is_anonymous_sales

),

final as (

    select
        {{ dbt.concat(["cast(rolled_up.period_end_date as varchar)", "'|'", "rolled_up.dimension", "'|'", "rolled_up.dimension_value"]) }}
            as kpi_row_id,
        cast({{ dbt.date_trunc('month', 'rolled_up.period_end_date') }} as date) as period_start_date,
        rolled_up.period_end_date,
        rolled_up.period_end_date = as_of.as_of_date as is_as_of_period,
        rolled_up.period_end_date < cast({{ dbt.last_day('rolled_up.period_end_date', 'month') }} as date)
            as is_partial_month,
        rolled_up.dimension,
        rolled_up.dimension_value,
        {% for metric in metrics if metric.get('output', true) %}
            cast(rolled_up.{{ metric.name }} as {{ metric.type }}) as {{ metric.name }},
        {% endfor %}
        {#- The rates, each from its sums. #}
        cast(rolled_up.retained_customers as double) / nullif(rolled_up.customers_at_period_start, 0)
            as retention_rate,
        cast(rolled_up.customers_at_period_start - rolled_up.retained_customers as double)
        / nullif(rolled_up.customers_at_period_start, 0) as churn_rate,
        cast(rolled_up.repeat_customers as double) / nullif(rolled_up.active_customers, 0) as repeat_purchase_rate,
        cast(rolled_up.revenue / nullif(rolled_up.purchase_orders, 0) as decimal(18, 2)) as average_order_value,
        cast(rolled_up.purchase_orders as double) / nullif(rolled_up.active_customers, 0) as purchase_frequency,
        cast(100.0 * (rolled_up.nps_promoters - rolled_up.nps_detractors) as double)
        / nullif(rolled_up.nps_responses, 0) as nps,
        cast(rolled_up.review_rating_total as double) / nullif(rolled_up.reviews, 0) as avg_review_rating,
        cast(1000.0 * rolled_up.support_tickets as double)
        / nullif(rolled_up.active_customers, 0) as support_tickets_per_1000_active,
        {#- The overall rows only: sales of no customer, and all sales. #}
        case
            when rolled_up.dimension = 'overall' then cast(coalesce(anonymous_sales.anonymous_purchase_orders, 0) as bigint)
        end as anonymous_purchase_orders,
        case
            when rolled_up.dimension = 'overall' then cast(coalesce(anonymous_sales.anonymous_revenue, 0) as decimal(18, 2))
        end as anonymous_revenue,
        case
            when rolled_up.dimension = 'overall'
                then cast(rolled_up.revenue + coalesce(anonymous_sales.anonymous_revenue, 0) as decimal(18, 2))
        end as total_revenue
    from rolled_up
    cross join as_of
    left join anonymous_sales
        on rolled_up.period_end_date = anonymous_sales.period_end_date

)

select * from final
