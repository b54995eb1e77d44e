with

source as (

    select * from {{ source('helpdesk', 'support_tickets') }}

),

renamed as (

    select
        {{ clean_key('ticket_id') }} as support_ticket_id,
        {{ normalise_email('email') }} as email_normalised,
        lower(trim(channel)) as contact_channel,
        {{ clean_label('topic', 'other') }} as topic,
        opened_at as opened_at_raw,
        {{ parse_timestamp_utc('opened_at') }} as opened_at,
        {{ parse_timestamp_utc('resolved_at') }} as resolved_at,
        _loaded_at
    from source

),

deduplicated as (

    {{ latest_load_per_key('renamed', ['support_ticket_id'], 'opened_at_raw') }}

),

final as (

    select
        support_ticket_id,
        email_normalised,
        contact_channel,
        topic,
        opened_at,
        resolved_at,
        resolved_at is not null as is_resolved,
        {{ event_quarantine_reason('support_ticket_id', 'opened_at_raw', 'opened_at') }} as quarantine_reason,
        _loaded_at
    from deduplicated

)

select * from final
