{#- Every identifier a channel uses, mapped to the resolved customer_id: CRM customer ids (web and
    app orders, email events, reviews, referrals), normalised emails (support tickets, NPS surveys),
    loyalty cards (store transactions and visits) and anonymous ids stitched at login (clickstream).
    An anonymous id seen logged in as several customers (a shared device) goes to the first one.
    Erased people's identifiers are still here: ephemeral, so never stored; int_customers_erased
    reads it, int_customer_identifiers_mapped is it without them (doc block identity_erasure). #}
{{ config(materialized='ephemeral') }}
with

customer_records as (

    select * from {{ ref('int_customer_records_grouped') }}

),

web_events as (

    select * from {{ ref('stg_web__events') }}

),

as_of as (

    select as_of_date from {{ ref('int_build_dates') }}

),

crm_ids as (

    select
        {{ identifier_type('customer_id') }} as identifier_type,
        source_customer_id as identifier_value,
        customer_id
    from customer_records

),

emails as (

    select distinct
        {{ identifier_type('email') }} as identifier_type,
        email_normalised as identifier_value,
        customer_id
    from customer_records
    where email_normalised is not null

),

loyalty_cards as (

    select
        {{ identifier_type('loyalty_card') }} as identifier_type,
        loyalty_card_number as identifier_value,
        min(customer_id) as customer_id
    from customer_records
    where loyalty_card_number is not null
    group by 1, 2

),

device_logins as (

    {#- Each device's first login as each CRM id, aggregated before the join: the web events are
        read once, by a hash aggregate, and only the (device, CRM id) pairs are joined. #}
    select
        web_events.anonymous_id,
        web_events.customer_id as source_customer_id,
        min(web_events.occurred_at) as occurred_at
    from web_events
    cross join as_of
    where
        web_events.quarantine_reason is null
        and web_events.anonymous_id is not null
        and web_events.customer_id is not null
        and cast(web_events.occurred_at as date) <= as_of.as_of_date
    group by 1, 2

),

logins as (

    select
        device_logins.anonymous_id,
        crm_ids.customer_id,
        device_logins.occurred_at
    from device_logins
    inner join crm_ids
        on device_logins.source_customer_id = crm_ids.identifier_value

),

anonymous_ids as (

    select
        {{ identifier_type('anonymous_id') }} as identifier_type,
        anonymous_id as identifier_value,
        arg_min(customer_id, occurred_at) as customer_id
    from logins
    group by 1, 2

),

unioned as (

    select * from crm_ids
    union all
    select * from emails
    union all
    select * from loyalty_cards
    union all
    select * from anonymous_ids

),

final as (

    select
        {{ dbt.concat(["identifier_type", "':'", "identifier_value"]) }} as customer_identifier_id,
        identifier_type,
        identifier_value,
        customer_id
    from unioned

)

select * from final
