with

source as (

    select * from {{ source('crm', 'privacy_requests') }}

),

renamed as (

    select
        {{ clean_key('request_id') }} as privacy_request_id,
        {{ clean_key('customer_id') }} as customer_id,
        lower(trim(request_type)) as request_type,
        requested_at as requested_at_raw,
        {{ parse_timestamp_utc('requested_at') }} as requested_at,
        _loaded_at
    from source

),

deduplicated as (

    {{ latest_load_per_key('renamed', ['privacy_request_id'], 'requested_at_raw') }}

),

final as (

    select
        privacy_request_id,
        customer_id,
        request_type,
        requested_at,
        {{ event_quarantine_reason(
            ['privacy_request_id', 'customer_id'], 'requested_at_raw', 'requested_at'
        ) }} as quarantine_reason,
        _loaded_at
    from deduplicated

)

select * from final
