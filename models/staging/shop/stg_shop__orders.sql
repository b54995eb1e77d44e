{{ config(materialized='incremental') }}

with

source as (

    {{ select_new_loads(source('shop', 'shop_orders')) }}

),

renamed as (

    select
        {{ clean_key('order_id') }} as order_id,
        {{ clean_key('customer_id') }} as customer_id,
        case
            when lower(channel) like '%app%' then 'app'
            when lower(channel) like '%web%' or lower(channel) like '%site%' then 'web'
            else {{ clean_label('channel', 'web') }}
        end as channel,
        ordered_at as ordered_at_raw,
        {{ parse_timestamp_utc('ordered_at') }} as ordered_at,
        {{ parse_date_utc('ordered_at') }} as order_date,
        {{ normalise_order_status('status') }} as order_status,
        {{ clean_code('currency') }} as currency_code,
        discount_amount as discount_amount_raw,
        shipping_amount as shipping_amount_raw,
        tax_amount as tax_amount_raw,
        _loaded_at
    from source

),

deduplicated as (

    {{ latest_load_per_key('renamed', ['order_id'], 'ordered_at_raw') }}

),

converted as (

    {{ select_with_fx_rate_to_reporting('deduplicated', 'currency_code', 'order_date') }}

),

staged as (

    select
        order_id,
        customer_id,
        channel,
        ordered_at,
        order_date,
        order_status,
        currency_code,
        fx_rate_to_reporting,
        {{ money_in_reporting_currency('discount_amount_raw') }} as discount_amount,
        {{ money_in_reporting_currency('shipping_amount_raw') }} as shipping_amount,
        {{ money_in_reporting_currency('tax_amount_raw') }} as tax_amount,
        {{ order_quarantine_reason(
            'order_id', 'ordered_at_raw', 'ordered_at', ['discount_amount_raw', 'shipping_amount_raw', 'tax_amount_raw']
        ) }} as quarantine_reason,
        _loaded_at
    from converted

),

final as (

    {{ select_staged_rows('staged', 'order_id') }}

)

select * from final
