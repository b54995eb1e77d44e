with

source as (

    select * from {{ source('feedback', 'nps_responses') }}

),

renamed as (

    select
        {{ clean_key('response_id') }} as nps_response_id,
        {{ normalise_email('email') }} as email_normalised,
        score as nps_score,
        responded_at as responded_at_raw,
        {{ parse_timestamp_utc('responded_at') }} as responded_at,
        _loaded_at
    from source

),

deduplicated as (

    {{ latest_load_per_key('renamed', ['nps_response_id'], 'responded_at_raw') }}

),

final as (

    select
        nps_response_id,
        email_normalised,
        nps_score,
        {{ nps_category('nps_score') }} as nps_category,
        responded_at,
        {{ event_quarantine_reason(
            'nps_response_id', 'responded_at_raw', 'responded_at',
            value_checks=[('invalid_score', is_invalid_nps_score('nps_score'))],
        ) }} as quarantine_reason,
        _loaded_at
    from deduplicated

)

select * from final
