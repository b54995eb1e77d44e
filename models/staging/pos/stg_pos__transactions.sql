{{ config(materialized='incremental') }}

with

source as (

    {{ select_new_loads(source('pos', 'pos_transactions')) }}

),

renamed as (

    select
        {{ clean_key('transaction_id') }} as transaction_id,
        {{ clean_key('store_id') }} as store_id,
        {{ clean_key('loyalty_card_number') }} as loyalty_card_number,
        transacted_at as transacted_at_raw,
        {{ parse_timestamp_utc('transacted_at') }} as transacted_at,
        {{ parse_date_utc('transacted_at') }} as transaction_date,
        {{ normalise_order_status('status') }} as transaction_status,
        {{ clean_code('currency') }} as currency_code,
        discount_amount as discount_amount_raw,
        tax_amount as tax_amount_raw,
        _loaded_at
    from source

),

deduplicated as (

    {{ latest_load_per_key('renamed', ['transaction_id'], 'transacted_at_raw') }}

),

converted as (

    {{ select_with_fx_rate_to_reporting('deduplicated', 'currency_code', 'transaction_date') }}

),

staged as (

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
        {{ money_in_reporting_currency('discount_amount_raw') }} as discount_amount,
        {{ money_in_reporting_currency('tax_amount_raw') }} as tax_amount,
        {{ order_quarantine_reason(
            'transaction_id', 'transacted_at_raw', 'transacted_at', ['discount_amount_raw', 'tax_amount_raw']
        ) }} as quarantine_reason,
        _loaded_at
    from converted

),

final as (

    {{ select_staged_rows('staged', 'transaction_id') }}

)

select * from final
