{#- Monthly customer KPIs, overall and by the customer's current preferred channel, region and
    acquisition channel: one row per period (the history's snapshot dates: month ends and the
    as-of date) per dimension value. Definitions: _kpi__docs.md.

    Every additive KPI is written once, in `metrics` below: its `name`, the `source` it is counted
    from (history, orders or interactions), the `expression` summed over the rows of that source,
    its output `type`, `when_empty: 'null'` for a sum that is null rather than 0 where its source
    has no row (margin: no known cost), and `output: false` for a sum only a rate uses. The rates
    are computed once, at the end, from those sums. To add a KPI, add an entry (and its column to
    _kpi__models.yml); to add a breakdown, add the customer attribute to customer_attributes and
    its name to `breakdowns`.

    Built for scale: each source is read once and reduced first to one row per period and
    combination of the three dimension values (the "cube": its size depends on the periods and the
    attribute values, not on the customers; the big aggregations group by the period and an
    integer combination id). The breakdowns are then one aggregation of that small cube, one
    grouping per breakdown, so no step multiplies customer rows. #}

{%- set breakdowns = ['preferred_channel', 'region', 'acquisition_channel'] -%}

{%- set metrics = [
    {'name': 'customers_at_period_start', 'source': 'history', 'type': 'bigint',
     'expression': "case when history.previous_stage not in ('prospect', 'churned') then 1 else 0 end"},
    {'name': 'retained_customers', 'source': 'history', 'type': 'bigint',
     'expression': "case when history.previous_stage not in ('prospect', 'churned')"
        ~ " and history.lifecycle_stage <> 'churned' then 1 else 0 end"},
    {'name': 'churned_customers', 'source': 'history', 'type': 'bigint',
     'expression': "case when history.lifecycle_stage = 'churned'"
        ~ " and coalesce(history.previous_stage, 'none') <> 'churned' then 1 else 0 end"},
    {'name': 'active_customers', 'source': 'history', 'type': 'bigint',
     'expression': "case when history.period_purchase_days > 0 then 1 else 0 end"},
    {'name': 'new_customers', 'source': 'history', 'type': 'bigint',
     'expression': "case when history.lifecycle_stage = 'new' and history.period_purchase_days > 0"
        ~ " and history.purchase_days = history.period_purchase_days then 1 else 0 end"},
    {'name': 'repeat_customers', 'source': 'history', 'type': 'bigint',
     'expression': "case when history.period_purchase_days > 0"
        ~ " and history.purchase_days > history.period_purchase_days then 1 else 0 end"},
    {'name': 'reactivated_customers', 'source': 'history', 'type': 'bigint',
     'expression': "case when history.lifecycle_stage = 'reactivated'"
        ~ " and coalesce(history.previous_stage, 'none') <> 'reactivated' then 1 else 0 end"},
    {'name': 'purchase_orders', 'source': 'orders', 'type': 'bigint',
     'expression': "case when orders.is_purchase then 1 else 0 end"},
    {'name': 'revenue', 'source': 'orders', 'type': 'decimal(18, 2)',
     'expression': "orders.net_revenue"},
    {'name': 'cost_known_revenue', 'source': 'orders', 'type': 'decimal(18, 2)',
     'expression': "case when orders.margin_amount is not null then orders.net_revenue end"},
    {'name': 'margin', 'source': 'orders', 'type': 'decimal(18, 2)', 'when_empty': 'null',
     'expression': "orders.margin_amount"},
    {'name': 'nps_responses', 'source': 'interactions', 'type': 'bigint',
     'expression': "case when interactions.interaction_type = 'nps' and interactions.score is not null"
        ~ " then 1 else 0 end"},
    {'name': 'nps_promoters', 'source': 'interactions', 'type': 'bigint',
     'expression': "case when interactions.interaction_type = 'nps' and "
        ~ nps_category('interactions.score') ~ " = 'promoter' then 1 else 0 end"},
    {'name': 'nps_detractors', 'source': 'interactions', 'type': 'bigint',
     'expression': "case when interactions.interaction_type = 'nps' and "
        ~ nps_category('interactions.score') ~ " = 'detractor' then 1 else 0 end"},
    {'name': 'reviews', 'source': 'interactions', 'type': 'bigint',
     'expression': "case when interactions.interaction_type = 'review' and interactions.score is not null"
        ~ " then 1 else 0 end"},
    {'name': 'review_rating_total', 'source': 'interactions', 'output': false,
     'expression': "case when interactions.interaction_type = 'review' then interactions.score end"},
    {'name': 'support_tickets', 'source': 'interactions', 'type': 'bigint',
     'expression': "case when interactions.interaction_type = 'support_ticket' then 1 else 0 end"},
] -%}


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

combined_cube as (

    {#- One row per period and attribute combination, whatever the number of customers. #}
    select
        cube_keys.period_end_date,
        {% for breakdown in breakdowns %}
            combinations.{{ breakdown }},
        {% endfor %}
        {% for metric in metrics %}
            {{ metric.source }}_cube.{{ metric.name }},
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

rolled_up as (

    {#- The breakdowns in one aggregation of the small cube: grouped by each breakdown's value,
        and by none for the overall row (macros/grouping.sql). A metric whose source has no row in
        a group is 0 (margin: null, no known cost). #}
    select
        period_end_date,
        {{ breakdown_name(breakdowns, 'overall') }} as dimension,
        {{ breakdown_value(breakdowns, 'all') }} as dimension_value,
        {% for metric in metrics %}
            {% if metric.get('when_empty') == 'null' %}
                sum({{ metric.name }}) as {{ metric.name }}{% if not loop.last %},{% endif %}
            {% else %}
                coalesce(sum({{ metric.name }}), 0) as {{ metric.name }}{% if not loop.last %},{% endif %}
            {% endif %}
        {% endfor %}
    from combined_cube
    {{ group_by_each_breakdown(['period_end_date'], breakdowns) }}

),

anonymous_sales as (

    {#- The orders of no customer, per period: in the overall revenue only. #}
    select
        period_end_date,
        purchase_orders as anonymous_purchase_orders,
        revenue as anonymous_revenue
    from orders_cube
    where combination_id is null

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
