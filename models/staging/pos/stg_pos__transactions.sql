with

source as (

    select * from {{ source('pos', 'pos_transactions') }}

),

renamed as (

    select
        {{ clean_key('transaction_id') }} as transaction_id,
        {{ clean_key('store_id') }} as store_id,
        {{ clean_key('loyalty_card_number') }} as loyalty_card_number,
        transacted_at as transacted_at_raw,
        {{ parse_timestamp_utc('transacted_at') }} as transacted_at,
        cast({{ parse_timestamp_utc('transacted_at') }} as date) as transaction_date,
        {{ normalise_order_status('status') }} as transaction_status,
        upper(trim(currency)) as currency_code,
        discount_amount as discount_amount_raw,
        tax_amount as tax_amount_raw,
        _loaded_at
    from source

),

deduplicated as (

    select * from renamed
    {{ latest_load_per_key(['transaction_id'], 'transacted_at_raw') }}

),

converted as (

    {{ select_with_fx_rate_to_reporting('deduplicated', 'currency_code', 'transaction_date') }}

),

final as (

    select
        transaction_id,
        store_id,
        loyalty_card_number,
        loyalty_card_number is null as is_anonymous,
        transacted_at,
        transaction_date,
        transaction_status,
        currency_code,
        fx_rate_to_reporting,
        cast(
            coalesce({{ parse_money('discount_amount_raw') }}, 0) * fx_rate_to_reporting as decimal(18, 2)
        ) as discount_amount,
        cast(
            coalesce({{ parse_money('tax_amount_raw') }}, 0) * fx_rate_to_reporting as decimal(18, 2)
        ) as tax_amount,
        case
            when transaction_id is null then 'missing_key'
            when {{ is_unparseable_timestamp('transacted_at_raw') }} or transacted_at_raw is null
                then 'unparseable_timestamp'
            when transacted_at > _loaded_at then 'future_timestamp'
            when fx_rate_to_reporting is null then 'unknown_currency'
            when
                {{ is_invalid_money('discount_amount_raw') }}
                or {{ is_invalid_money('tax_amount_raw') }}
                then 'invalid_amount'
        end as quarantine_reason,
        _loaded_at
    from converted

)

select * from final
