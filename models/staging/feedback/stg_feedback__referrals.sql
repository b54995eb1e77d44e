with

source as (

    select * from {{ source('feedback', 'referrals') }}

),

renamed as (

    select
        {{ clean_key('referral_id') }} as referral_id,
        {{ clean_key('referrer_customer_id') }} as referrer_customer_id,
        {{ normalise_email('referred_email') }} as referred_email_normalised,
        referred_at as referred_at_raw,
        {{ parse_timestamp_utc('referred_at') }} as referred_at,
        _loaded_at
    from source

),

deduplicated as (

    {{ latest_load_per_key('renamed', ['referral_id'], 'referred_at_raw') }}

),

final as (

    select
        referral_id,
        referrer_customer_id,
        referred_email_normalised,
        referred_at,
        {{ event_quarantine_reason('referral_id', 'referred_at_raw', 'referred_at') }} as quarantine_reason,
        _loaded_at
    from deduplicated

)

select * from final
