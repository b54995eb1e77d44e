{{ config(materialized='incremental') }}

with

source as (

    {{ select_new_loads(source('web', 'web_events')) }}

),

renamed as (

    select
        {{ clean_key('event_id') }} as web_event_id,
        {{ clean_key('anonymous_id') }} as anonymous_id,
        {{ clean_key('customer_id') }} as customer_id,
        case when lower(platform) like '%app%' then 'app' else 'web' end as platform,
        lower(trim(event_type)) as event_type,
        {{ clean_key('sku') }} as sku,
        occurred_at as occurred_at_raw,
        {{ parse_timestamp_utc('occurred_at') }} as occurred_at,
        _loaded_at
    from source

),

deduplicated as (

    {{ latest_load_per_key('renamed', ['web_event_id'], 'occurred_at_raw') }}

),

staged as (

    select
        web_event_id,
        anonymous_id,
        customer_id,
        platform,
        event_type,
        sku,
        occurred_at,
        {{ event_quarantine_reason('web_event_id', 'occurred_at_raw', 'occurred_at') }} as quarantine_reason,
        _loaded_at
    from deduplicated

),

final as (

    {{ select_staged_rows('staged', 'web_event_id') }}

)

select * from final
