{{ config(materialized='incremental') }}

with

source as (

    {{ select_new_loads(source('esp', 'email_events')) }}

),

renamed as (

    select
        {{ clean_key('event_id') }} as email_event_id,
        {{ clean_key('customer_id') }} as customer_id,
        {{ clean_key('campaign_id') }} as campaign_id,
        lower(trim(event_type)) as event_type,
        occurred_at as occurred_at_raw,
        {{ parse_timestamp_utc('occurred_at') }} as occurred_at,
        _loaded_at
    from source

),

deduplicated as (

    {{ latest_load_per_key('renamed', ['email_event_id'], 'occurred_at_raw') }}

),

staged as (

    select
        email_event_id,
        customer_id,
        campaign_id,
        event_type,
        occurred_at,
        {{ event_quarantine_reason('email_event_id', 'occurred_at_raw', 'occurred_at') }} as quarantine_reason,
        _loaded_at
    from deduplicated

),

final as (

    {{ select_staged_rows('staged', 'email_event_id') }}

)

select * from final
