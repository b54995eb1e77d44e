with

source as (

    select * from {{ source('marketing', 'marketing_spend') }}

),

renamed as (

    select
        spend_date as spend_date_raw,
        try_cast(nullif(trim(spend_date), '') as date) as spend_date,
        coalesce(nullif(lower(trim(channel)), ''), 'unknown') as acquisition_channel,
        upper(trim(currency)) as currency_code,
        amount as amount_raw,
        _loaded_at
    from source

),

deduplicated as (

    select * from renamed
    {{ latest_load_per_key(['spend_date_raw', 'acquisition_channel'], 'amount_raw') }}

),

converted as (

    {{ select_with_fx_rate_to_reporting('deduplicated', 'currency_code', 'spend_date') }}

),

final as (

    select
        spend_date_raw || '|' || acquisition_channel as channel_spend_id,
        spend_date,
        acquisition_channel,
        currency_code,
        fx_rate_to_reporting,
        cast({{ parse_money('amount_raw') }} * fx_rate_to_reporting as decimal(18, 2)) as spend_amount,
        case
            when spend_date_raw is null then 'missing_key'
            when spend_date is null then 'unparseable_timestamp'
            when cast(spend_date as timestamp) > _loaded_at then 'future_timestamp'
            when fx_rate_to_reporting is null then 'unknown_currency'
            when {{ is_invalid_money('amount_raw') }} or nullif(trim(amount_raw), '') is null
                then 'invalid_amount'
        end as quarantine_reason,
        _loaded_at
    from converted

)

select * from final
