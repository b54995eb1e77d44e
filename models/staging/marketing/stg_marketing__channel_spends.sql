with

source as (

    select * from {{ source('marketing', 'marketing_spend') }}

),

renamed as (

    select
        spend_date as spend_date_raw,
        try_cast(nullif(trim(spend_date), '') as date) as spend_date,
        {{ clean_label('channel', 'unknown') }} as acquisition_channel,
        {{ clean_code('currency') }} as currency_code,
        amount as amount_raw,
        _loaded_at
    from source

),

deduplicated as (

    {{ latest_load_per_key('renamed', ['spend_date_raw', 'acquisition_channel'], 'amount_raw') }}

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
        {{ money_in_reporting_currency('amount_raw', missing_as_zero=false) }} as spend_amount,
        {{ first_failed_check([
            missing_key_check('spend_date_raw'),
            ('unparseable_timestamp', 'spend_date is null'),
            ('future_timestamp', 'cast(spend_date as timestamp) > _loaded_at'),
            unknown_currency_check(),
            ('invalid_amount', is_missing_or_invalid_money('amount_raw')),
        ]) }} as quarantine_reason,
        _loaded_at
    from converted

)

select * from final
