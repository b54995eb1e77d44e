{#- The monthly KPIs, written once (int_kpi_monthly_cube sums them per period and customer
    group, kpi_monthly rolls them up, the MetricFlow semantic model kpi_monthly_cube exposes them):
    each entry's `name`, the `source` it is counted from (history, orders or interactions), the
    `expression` summed over the rows of that source, its output `type`, `when_empty: 'null'` for a
    sum that is null rather than 0 where its source has no row (margin: no known cost), and
    `output: false` for a sum only a rate uses. To add a KPI, add an entry here, its column to
    _kpi__models.yml and its measure to _kpi__semantic.yml. -#}
{% macro kpi_monthly_metrics() -%}
    {{ return([
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
]) }}
{%- endmacro %}

{#- The breakdowns of kpi_monthly: customer attributes carried by int_kpi_monthly_cube (and
    dimensions of the semantic model). To add one, add it here and to the cube's
    customer_attributes. -#}
{% macro kpi_monthly_breakdowns() -%}
    {{ return(['preferred_channel', 'region', 'acquisition_channel']) }}
{%- endmacro %}
