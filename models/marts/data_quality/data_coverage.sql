{#- One row per mart of this project (read from the dbt graph, so a new mart gets a row without an
    edit here): whether it can be meaningful on the data given, why in plain words, and its row
    count. The rules (doc block data_quality_coverage_rules) read the marts themselves, so dbt
    builds every mart before this one; a mart no rule reads is not upstream of this model and is
    reported as 'unassessed' instead of being counted before it is built. -#}
{%- set marts = [] -%}
{%- set upstream = [] -%}
{%- if execute -%}
    {#- Everything this model depends on, directly or through other models. -#}
    {%- set queue = [model.unique_id] -%}
    {%- for unique_id in queue -%}
        {%- for parent in graph.nodes[unique_id].depends_on.nodes
            if parent in graph.nodes and parent not in upstream -%}
            {%- do upstream.append(parent) -%}
            {%- do queue.append(parent) -%}
        {%- endfor -%}
    {%- endfor -%}
    {%- for node in graph.nodes.values() | sort(attribute='name')
        if node.resource_type == 'model' and node.package_name == model.package_name
        and node.fqn[1] == 'marts' and node.unique_id != model.unique_id -%}
        {%- do marts.append(node) -%}
    {%- endfor -%}
{%- endif -%}
with

customers as (

    select * from {{ ref('customers') }}

),

customer_sentiment as (

    select * from {{ ref('customer_sentiment') }}

),

sentiment_by_segment as (

    select * from {{ ref('sentiment_by_segment') }}

),

lifecycle_audiences as (

    select * from {{ ref('lifecycle_audiences') }}

),

acquisition_channel_value as (

    select * from {{ ref('acquisition_channel_value') }}

),

kpi_monthly as (

    select * from {{ ref('kpi_monthly') }}

),

cohort_retention as (

    select * from {{ ref('cohort_retention') }}

),

customer_lifecycle_history as (

    select * from {{ ref('customer_lifecycle_history') }}

),

lifecycle_transitions as (

    select * from {{ ref('lifecycle_transitions') }}

),

segment_migration as (

    select * from {{ ref('segment_migration') }}

),

customer_clv as (

    select * from {{ ref('customer_clv') }}

),

clv_backtest as (

    select * from {{ ref('clv_backtest') }}

),

clv_model_parameters as (

    select * from {{ ref('clv_model_parameters') }}

),

clv_calibration as (

    select * from {{ ref('clv_calibration') }}

),

quarantined_rows as (

    select * from {{ ref('quarantined_rows') }}

),

as_of as (

    select as_of_date from {{ ref('int_build_dates') }}

),

mart_rows as (

    {#- The row count of every mart upstream of this model; null for one that is not. #}
    {% for node in marts %}
        {% if node.unique_id in upstream %}
            select
                '{{ node.name }}' as mart,
                count(*) as row_count,
                true as is_upstream
            {#- An imported mart through its CTE, one upstream of those through its relation. #}
            from {{ node.name if node.unique_id in model.depends_on.nodes
                else api.Relation.create(database=node.database, schema=node.schema, identifier=node.alias) }}
        {% else %}
            select
                '{{ node.name }}' as mart,
                cast(null as bigint) as row_count,
                false as is_upstream
        {% endif %}
        union all
    {% endfor %}
    select
        cast(null as varchar) as mart,
        cast(null as bigint) as row_count,
        false as is_upstream
    where false

),

clv_fit as (

    select
        model_status = 'fitted' as is_fitted,
        model_status_reason as fit_reason
    from clv_model_parameters

),

customer_facts as (

    select
        min(first_purchase_date) as first_purchase_date,
        sum(case when has_purchased then 1 else 0 end) as buyers,
        sum(case when has_marketing_consent then 1 else 0 end) as consenting_customers
    from customers

),

sentiment_facts as (

    select
        coalesce(sum(nps_responses), 0) as nps_responses,
        coalesce(sum(reviews), 0) as reviews
    from customer_sentiment

),

spend_facts as (

    select coalesce(sum(marketing_spend), 0) as marketing_spend
    from acquisition_channel_value

),

backtest_facts as (

    select count(*) as backtest_rows
    from clv_backtest

),

calibration_facts as (

    select count(*) as calibration_rows
    from clv_calibration

),

chosen_facts as (

    select any_value(purchase_model_label) as chosen_model
    from clv_model_parameters
    where is_chosen

),

fit_facts as (

    select
        coalesce(bool_and(is_fitted), false) as is_clv_fitted,
        coalesce(min(fit_reason), 'the CLV models were not fitted') as clv_fit_reason
    from clv_fit

),

quarantine_facts as (

    select count(*) as quarantined_rows
    from quarantined_rows

),

facts as (

    select
        customer_facts.buyers,
        customer_facts.consenting_customers,
        sentiment_facts.nps_responses,
        sentiment_facts.reviews,
        spend_facts.marketing_spend,
        backtest_facts.backtest_rows,
        calibration_facts.calibration_rows,
        chosen_facts.chosen_model,
        fit_facts.is_clv_fitted,
        fit_facts.clv_fit_reason,
        quarantine_facts.quarantined_rows,
        coalesce(
            {{ dbt.datediff('customer_facts.first_purchase_date', 'as_of.as_of_date', 'day') }} + 1, 0
        ) as days_of_data
    from customer_facts
    cross join sentiment_facts
    cross join spend_facts
    cross join backtest_facts
    cross join calibration_facts
    cross join chosen_facts
    cross join fit_facts
    cross join quarantine_facts
    cross join as_of

),

{%- set min_history_days = var('coverage_min_history_days') %}
{%- set migration_days = var('segment_migration_days') %}

rules as (

    {#- One row per mart with a rule: (mart, status, reason). Marts without a rule are complete. #}
    {% for mart in ['customer_sentiment', 'sentiment_by_segment'] %}
        select
            '{{ mart }}' as mart,
            case
                when nps_responses = 0 and reviews = 0 then 'not_meaningful'
                when nps_responses = 0 or reviews = 0 then 'partial'
                else 'complete'
            end as status,
            case
                when nps_responses = 0 and reviews = 0
                    then 'The data has no NPS answer and no product review, so there is no sentiment to report.'
                when nps_responses = 0
                    then 'The data has no NPS answer: only review ratings and support tickets are reported.'
                when reviews = 0
                    then 'The data has no product review: only NPS and support tickets are reported.'
                else 'NPS answers and product reviews are both present.'
            end as reason
        from facts
        union all
    {% endfor %}
    select
        'lifecycle_audiences' as mart,
        case when consenting_customers = 0 then 'not_meaningful' else 'complete' end as status,
        case
            when consenting_customers = 0
                then 'No customer has given marketing consent, so nobody can be contacted '
                    || '(import with --consent-col or --marketing-consent all if consent was collected).'
            else cast(consenting_customers as varchar) || ' customers have marketing consent.'
        end as reason
    from facts
    union all
    select
        'acquisition_channel_value' as mart,
        case when marketing_spend = 0 then 'not_meaningful' else 'complete' end as status,
        case
            when marketing_spend = 0
                then 'The data has no marketing spend, so acquisition cost (CAC) and CLV:CAC cannot be computed.'
            else 'Marketing spend is present for CAC and CLV:CAC.'
        end as reason
    from facts
    union all
    {% for mart in ['kpi_monthly', 'cohort_retention', 'customer_lifecycle_history', 'lifecycle_transitions'] %}
        select
            '{{ mart }}' as mart,
            case when days_of_data < {{ min_history_days }} then 'not_meaningful' else 'complete' end as status,
            case
                when days_of_data < {{ min_history_days }}
                    then 'The purchases span only ' || cast(days_of_data as varchar)
                        || ' days: month-on-month trends, cohorts and stage changes need at least '
                        || '{{ min_history_days }} days of history.'
                else 'The purchases span ' || cast(days_of_data as varchar) || ' days.'
            end as reason
        from facts
        union all
    {% endfor %}
    select
        'segment_migration' as mart,
        case when days_of_data <= {{ migration_days }} then 'not_meaningful' else 'complete' end as status,
        case
            when days_of_data <= {{ migration_days }}
                then 'The purchases span only ' || cast(days_of_data as varchar) || ' days: nobody was a customer '
                    || '{{ migration_days }} days before the as-of date, so there is no movement to show.'
            else 'Segments and stages are compared with {{ migration_days }} days earlier.'
        end as reason
    from facts
    union all
    {% for mart in ['customer_clv', 'clv_backtest', 'clv_calibration'] %}
        select
            '{{ mart }}' as mart,
            case
                when not is_clv_fitted then 'not_meaningful'
                when '{{ mart }}' = 'clv_backtest' and backtest_rows = 0 then 'not_meaningful'
                when '{{ mart }}' = 'clv_calibration' and calibration_rows = 0 then 'not_meaningful'
                else 'complete'
            end as status,
            case
                when not is_clv_fitted then 'Predictions are empty: ' || clv_fit_reason || '.'
                when '{{ mart }}' = 'clv_backtest' and backtest_rows = 0
                    then 'Too little data before the holdout period to backtest the model.'
                when '{{ mart }}' = 'clv_calibration' and calibration_rows = 0
                    then 'No purchase model could be refitted on the data before the holdout period.'
                else 'The purchase model (' || chosen_model || ') and Gamma-Gamma were fitted on '
                    || cast(buyers as varchar) || ' buyers.'
            end as reason
        from facts
        union all
    {% endfor %}
    select
        'clv_model_parameters' as mart,
        'complete' as status,
        case
            when not is_clv_fitted then 'The fit is recorded with its reason: ' || clv_fit_reason || '.'
            else 'The purchase model (' || chosen_model || ') and Gamma-Gamma were fitted on '
                || cast(buyers as varchar) || ' buyers.'
        end as reason
    from facts
    union all
    select
        'customer_lifecycle' as mart,
        case when not is_clv_fitted then 'partial' else 'complete' end as status,
        case
            when not is_clv_fitted
                then 'Stages use purchase gaps only (no churn probability, no low p_alive rule): '
                    || clv_fit_reason || '.'
            else 'Every lifecycle rule applies, the low p_alive rule included.'
        end as reason
    from facts
    union all
    select
        'quarantined_rows' as mart,
        'complete' as status,
        cast(quarantined_rows as varchar) || ' raw rows were set aside, each with a reason.' as reason
    from facts

),

final as (

    select
        mart_rows.mart,
        case
            when not mart_rows.is_upstream then 'unassessed'
            else coalesce(rules.status, 'complete')
        end as status,
        case
            when not mart_rows.is_upstream
                then 'No coverage rule reads this mart (models/marts/data_quality/data_coverage.sql), '
                    || 'so it is neither assessed nor counted here.'
            else coalesce(rules.reason, 'Built from the data given.')
        end as reason,
        mart_rows.row_count,
        as_of.as_of_date
    from mart_rows
    left join rules
        on mart_rows.mart = rules.mart
    cross join as_of

)

select * from final
