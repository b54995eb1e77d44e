{#- One row per contactable customer (marketing consent; erased and test customers are not in
    `customers`) with the next best action of seeds/lifecycle_playbook.csv for their lifecycle
    stage and CLV tier, its priority and channel, and a reason rendered with their facts. Left
    out: the playbook's `suppress` cells and email actions for customers who unsubscribed from
    email. Rules: _marketing__docs.md (marketing_lifecycle_audiences). #}
{%- set placeholders = {
    'stage': 'lifecycle_stage',
    'clv_tier': 'clv_tier',
    'days_in_stage': 'days_in_stage',
    'days_since_first_purchase': 'days_since_first_purchase',
    'days_since_last_purchase': 'days_since_last_purchase',
    'purchase_days': 'purchase_days',
    'predicted_clv': 'predicted_clv',
    'historical_revenue': 'historical_revenue',
    'favourite_category': 'favourite_category',
    'p_alive_pct': 'cast(round(p_alive * 100) as integer)',
} -%}
{%- set rendered = namespace(sql='applied_reason_template') -%}
{%- for placeholder, value in placeholders.items() -%}
    {%- set rendered.sql = "replace(" ~ rendered.sql ~ ", '{" ~ placeholder ~ "}', coalesce(cast("
        ~ value ~ " as " ~ dbt.type_string() ~ "), 'n/a'))" -%}
{%- endfor -%}
with

customers as (

    select * from {{ ref('customers') }}

),

lifecycle as (

    select * from {{ ref('customer_lifecycle') }}

),

customer_clv as (

    select * from {{ ref('customer_clv') }}

),

segments as (

    select * from {{ ref('customer_segments') }}

),

playbook as (

    select * from {{ ref('lifecycle_playbook') }}

),

identifiers as (

    select * from {{ ref('int_customer_identifiers_flagged') }}

),

email_events as (

    select * from {{ ref('stg_esp__email_events') }}

),

as_of as (

    select as_of_date from {{ ref('int_build_dates') }}

),

email_unsubscribes as (

    {#- Honoured even when the event row is quarantined (a missing event id, a bad timestamp):
        only an unsubscribe dated after the as-of date is ignored. #}
    select distinct identifiers.customer_id
    from email_events
    cross join as_of
    {{ join_identity('identifiers', 'customer_id', 'email_events.customer_id', 'inner') }}
    where
        email_events.event_type = 'unsubscribe'
        and (email_events.occurred_at is null or cast(email_events.occurred_at as date) <= as_of.as_of_date)

),

contactable as (

    select
        customers.customer_id,
        customers.as_of_date,
        lifecycle.lifecycle_stage,
        lifecycle.stage_started_date,
        {#- customer_lifecycle can date an active stage after the as-of date (the end of a
            reactivation window still running): the time in stage is then unknown. #}
        case
            when lifecycle.stage_started_date <= customers.as_of_date
                then {{ dbt.datediff('lifecycle.stage_started_date', 'customers.as_of_date', 'day') }}
        end as days_in_stage,
        lifecycle.days_since_first_purchase,
        lifecycle.days_since_last_purchase,
        customers.purchase_days,
        customer_clv.clv_tier,
        customer_clv.predicted_clv,
        customer_clv.historical_revenue,
        customer_clv.p_alive,
        segments.favourite_category,
        email_unsubscribes.customer_id is not null as has_esp_unsubscribe
    from customers
    inner join lifecycle
        on customers.customer_id = lifecycle.customer_id
    inner join customer_clv
        on customers.customer_id = customer_clv.customer_id
    inner join segments
        on customers.customer_id = segments.customer_id
    left join email_unsubscribes
        on customers.customer_id = email_unsubscribes.customer_id
    where customers.has_marketing_consent

),

playbook_matched as (

    {#- A one-time buyer past the welcome period gets the cell's one-time-buyer action instead. #}
    select
        contactable.*,
        playbook.action as cell_action,
        playbook.priority,
        playbook.channel,
        playbook.reason_template,
        playbook.one_time_buyer_action,
        playbook.one_time_buyer_reason_template,
        coalesce(
            playbook.one_time_buyer_action is not null
            and contactable.purchase_days = 1
            and contactable.days_since_first_purchase >= {{ var('welcome_series_days') }},
            false
        ) as is_one_time_buyer_rule
    from contactable
    inner join playbook
        on contactable.lifecycle_stage = playbook.lifecycle_stage and contactable.clv_tier = playbook.clv_tier

),

actions as (

    select
        *,
        {#- `action` is the column name the activation tools expect, although a SQL keyword. #}
        case
            when is_one_time_buyer_rule then one_time_buyer_action else cell_action
        end as action, -- noqa: RF04
        case
            when is_one_time_buyer_rule then one_time_buyer_reason_template else reason_template
        end as applied_reason_template
    from playbook_matched

),

final as (

    select
        customer_id,
        as_of_date,
        lifecycle_stage,
        stage_started_date,
        cast(days_in_stage as bigint) as days_in_stage,
        clv_tier,
        cast(purchase_days as bigint) as purchase_days,
        action,
        cast(priority as integer) as priority,
        channel,
        {{ rendered.sql }} as reason,
        cast(predicted_clv as decimal(18, 2)) as value_at_stake,
        favourite_category,
        has_esp_unsubscribe
    from actions
    where
        action <> 'suppress'
        and not (channel = 'email' and has_esp_unsubscribe)

)

select * from final
