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

    select * from renamed
    {{ latest_load_per_key(['privacy_request_id'], 'requested_at_raw') }}

),

final as (

    select
        privacy_request_id,
        customer_id,
        request_type,
        requested_at,
        case
            when privacy_request_id is null or customer_id is null then 'missing_key'
            when requested_at_raw is null or {{ is_unparseable_timestamp('requested_at_raw') }}
                then 'unparseable_timestamp'
            when requested_at > _loaded_at then 'future_timestamp'
        end as quarantine_reason,
        _loaded_at
    from deduplicated

)

select * from final
