{#- The KPI cube: the additive monthly KPI sums (macros/kpi_metrics.sql) per period (the history's
    snapshot dates: month ends and the as-of date) and combination of the customers' breakdown
    attributes, plus one row per period for the sales of no customer. kpi_monthly rolls it up to
    its breakdowns; the MetricFlow semantic model kpi_monthly_cube (_kpi__semantic.yml) queries it
    directly, so any grouping of the breakdown attributes adds up to the marts' figures.

    Built for scale: each source is read once and reduced first to one row per period and
    combination of the breakdown values (its size depends on the periods and the attribute
    values, not on the customers; the big aggregations group by the period and an integer
    combination id). #}

{%- set breakdowns = kpi_monthly_breakdowns() -%}
{%- set metrics = kpi_monthly_metrics() -%}

with

history as (

    select * from {{ ref('customer_lifecycle_history') }}

),

customers as (

    select * from {{ ref('customers') }}

),

orders as (

    select * from {{ ref('int_orders_netted') }}

),

interactions as (

    select * from {{ ref('int_customer_interactions_unioned') }}

),

as_of as (

    select as_of_date from {{ ref('int_build_dates') }}

),

customer_attributes as (

    {#- Current attributes, not as of the period. #}
    select
        customer_id,
        preferred_channel,
        coalesce(region, 'unknown') as region,
        coalesce(acquisition_channel, 'unknown') as acquisition_channel
    from customers

),

customer_dimensions as (

    {#- Each distinct combination of the breakdown attributes gets a small integer id, so the big
        aggregations below group by two narrow keys. #}
    select
        customer_id,
        {% for breakdown in breakdowns %}
            {{ breakdown }},
        {% endfor %}
        dense_rank() over (order by {{ breakdowns | join(', ') }}) as combination_id
    from customer_attributes

),

combinations as (

    select distinct
        {% for breakdown in breakdowns %}
            {{ breakdown }},
        {% endfor %}
        combination_id
    from customer_dimensions

),

history_cube as (

    {#- The one pass over the history (one row per customer per snapshot date). A customer's
        previous snapshot is the previous month end, so previous_stage is the stage at the start
        of the period. #}
    select
        history.snapshot_date as period_end_date,
        customer_dimensions.combination_id,
        {% for metric in metrics if metric.source == 'history' %}
            sum({{ metric.expression }}) as {{ metric.name }}{% if not loop.last %},{% endif %}
        {% endfor %}
    from history
    inner join customer_dimensions
        on history.customer_id = customer_dimensions.customer_id
    group by 1, 2

),

orders_cube as (

    {#- Orders: revenue nets every order (credit notes and cancellations included, orders_rules),
        purchase orders count the purchases. An order belongs to the period ending at its month
        end, or at the as-of date in the as-of month. Sales tied to no customer (guest checkouts,
        anonymous till sales, erased customers) get no combination: they are the anonymous sales
        of the overall rows, in no customer and so in no dimension value. Orders of a customer id
        that is not a resolved customer count nowhere. #}
    select
        {{ kpi_period_end_date('orders.order_date', 'as_of.as_of_date') }} as period_end_date,
        customer_dimensions.combination_id,
        {% for metric in metrics if metric.source == 'orders' %}
            sum({{ metric.expression }}) as {{ metric.name }}{% if not loop.last %},{% endif %}
        {% endfor %}
    from orders
    cross join as_of
    left join customer_dimensions
        on orders.customer_id = customer_dimensions.customer_id
    where
        orders.order_date <= as_of.as_of_date
        and (orders.customer_id is null or customer_dimensions.customer_id is not null)
    group by 1, 2

),

interactions_cube as (

    {#- NPS answers, reviews and support tickets, bucketed into periods like purchases. #}
    select
        {{ kpi_period_end_date('interactions.occurred_date', 'as_of.as_of_date') }} as period_end_date,
        customer_dimensions.combination_id,
        {% for metric in metrics if metric.source == 'interactions' %}
            sum({{ metric.expression }}) as {{ metric.name }}{% if not loop.last %},{% endif %}
        {% endfor %}
    from interactions
    cross join as_of
    inner join customer_dimensions
        on interactions.customer_id = customer_dimensions.customer_id
    where
        interactions.interaction_type in ('nps', 'review', 'support_ticket')
        and interactions.occurred_date <= as_of.as_of_date
    group by 1, 2

),

periods as (

    {#- The history's snapshot dates; purchases and interactions before the first one (the data
        starts with the first month of purchases) have no period. #}
    select period_end_date
    from history_cube
    group by 1

),

cube_keys as (

    select
        period_end_date,
        combination_id
    from history_cube
    union
    select
        period_end_date,
        combination_id
    from orders_cube
    where combination_id is not null
    union
    select
        period_end_date,
        combination_id
    from interactions_cube

),

customer_groups as (

    {#- One row per period and attribute combination, whatever the number of customers. A metric
        whose source has no row in the group is 0 (margin: null, no known cost). #}
    select
        cube_keys.period_end_date,
        {% for breakdown in breakdowns %}
            combinations.{{ breakdown }},
        {% endfor %}
        {% for metric in metrics %}
            {% if metric.get('when_empty') == 'null' %}
                {{ metric.source }}_cube.{{ metric.name }},
            {% else %}
                coalesce({{ metric.source }}_cube.{{ metric.name }}, 0) as {{ metric.name }},
            {% endif %}
        {% endfor %}
        cube_keys.combination_id
    from cube_keys
    inner join periods
        on cube_keys.period_end_date = periods.period_end_date
    inner join combinations
        on cube_keys.combination_id = combinations.combination_id
    {% for source in metrics | map(attribute='source') | unique %}
        left join {{ source }}_cube
            on
                cube_keys.period_end_date = {{ source }}_cube.period_end_date
                and cube_keys.combination_id = {{ source }}_cube.combination_id
    {% endfor %}

),

anonymous_sales as (

    {#- The orders of no customer, per period: in kpi_monthly's overall rows only. #}
    select
        orders_cube.period_end_date,
        orders_cube.purchase_orders as anonymous_purchase_orders,
        orders_cube.revenue as anonymous_revenue
    from orders_cube
    inner join periods
        on orders_cube.period_end_date = periods.period_end_date
    where orders_cube.combination_id is null

),

final as (

    select
        {{ dbt.concat(["cast(period_end_date as varchar)", "'|'", "cast(combination_id as varchar)"]) }}
            as kpi_cube_row_id,
        period_end_date,
        false as is_anonymous_sales,
        combination_id,
        {% for breakdown in breakdowns %}
            {{ breakdown }},
        {% endfor %}
        {% for metric in metrics %}
            cast({{ metric.name }} as {{ metric.get('type', 'double') }}) as {{ metric.name }},
        {% endfor %}
        cast(0 as bigint) as anonymous_purchase_orders,
        cast(0 as decimal(18, 2)) as anonymous_revenue
    from customer_groups

    union all

    select
        {{ dbt.concat(["cast(period_end_date as varchar)", "'|anonymous'"]) }} as kpi_cube_row_id,
        period_end_date,
        true as is_anonymous_sales,
        null as combination_id,
        {% for breakdown in breakdowns %}
            null as {{ breakdown }},
        {% endfor %}
        {% for metric in metrics %}
            {% if metric.get('when_empty') == 'null' %}
                cast(null as {{ metric.get('type', 'double') }}) as {{ metric.name }},
            {% else %}
                cast(0 as {{ metric.get('type', 'double') }}) as {{ metric.name }},
            {% endif %}
        {% endfor %}
        cast(coalesce(anonymous_purchase_orders, 0) as bigint) as anonymous_purchase_orders,
        cast(coalesce(anonymous_revenue, 0) as decimal(18, 2)) as anonymous_revenue
    from anonymous_sales

)

select * from final
