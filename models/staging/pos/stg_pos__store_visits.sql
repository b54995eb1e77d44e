{{ config(materialized='incremental') }}

with

source as (

    {{ select_new_loads(source('pos', 'store_visits')) }}

),

renamed as (

    select
        {{ clean_key('visit_id') }} as store_visit_id,
        {{ clean_key('loyalty_card_number') }} as loyalty_card_number,
        {{ clean_key('store_id') }} as store_id,
        visited_at as visited_at_raw,
        {{ parse_timestamp_utc('visited_at') }} as visited_at,
        _loaded_at
    from source

),

deduplicated as (

    {{ latest_load_per_key('renamed', ['store_visit_id'], 'visited_at_raw') }}

),

staged as (

    select
        store_visit_id,
        loyalty_card_number,
        store_id,
        visited_at,
        {{ event_quarantine_reason('store_visit_id', 'visited_at_raw', 'visited_at') }} as quarantine_reason,
        _loaded_at
    from deduplicated

),

final as (

    {{ select_staged_rows('staged', 'store_visit_id') }}

)

select * from final
