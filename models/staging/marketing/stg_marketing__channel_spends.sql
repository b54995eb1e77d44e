with

source as (

    select * from {{ source('marketing', 'marketing_spend') }}

),

fx_rates as (

    select * from {{ ref('fx_rates') }}

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

final as (

    select
        deduplicated.spend_date_raw || '|' || deduplicated.acquisition_channel as channel_spend_id,
        deduplicated.spend_date,
        deduplicated.acquisition_channel,
        deduplicated.currency_code,
        cast({{ parse_money('deduplicated.amount_raw') }} * fx_rates.usd_per_unit as decimal(18, 2)) as spend_amount,
        case
            when deduplicated.spend_date_raw is null then 'missing_key'
            when deduplicated.spend_date is null then 'unparseable_timestamp'
            when cast(deduplicated.spend_date as timestamp) > deduplicated._loaded_at then 'future_timestamp'
            when fx_rates.usd_per_unit is null then 'unknown_currency'
            when {{ is_invalid_money('deduplicated.amount_raw') }} or nullif(trim(deduplicated.amount_raw), '') is null
                then 'invalid_amount'
        end as quarantine_reason,
        deduplicated._loaded_at
    from deduplicated
    left join fx_rates
        on deduplicated.currency_code = fx_rates.currency_code

)

select * from final
