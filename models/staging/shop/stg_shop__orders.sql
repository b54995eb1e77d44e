with

source as (

    select * from {{ source('shop', 'shop_orders') }}

),

renamed as (

    select
        {{ clean_key('order_id') }} as order_id,
        {{ clean_key('customer_id') }} as customer_id,
        case
            when lower(channel) like '%app%' then 'app'
            when lower(channel) like '%web%' or lower(channel) like '%site%' then 'web'
            else coalesce(nullif(lower(trim(channel)), ''), 'web')
        end as channel,
        ordered_at as ordered_at_raw,
        {{ parse_timestamp_utc('ordered_at') }} as ordered_at,
        cast({{ parse_timestamp_utc('ordered_at') }} as date) as order_date,
        {{ normalise_order_status('status') }} as order_status,
        upper(trim(currency)) as currency_code,
        discount_amount as discount_amount_raw,
        shipping_amount as shipping_amount_raw,
        tax_amount as tax_amount_raw,
        _loaded_at
    from source

),

deduplicated as (

    select * from renamed
    {{ latest_load_per_key(['order_id'], 'ordered_at_raw') }}

),

with_fx_rate as (

    {{ select_with_fx_rate_to_reporting('deduplicated', 'currency_code', 'order_date') }}

),

converted as (

    select
        *,
        coalesce({{ parse_money('discount_amount_raw') }}, 0) * fx_rate_to_reporting as discount_amount,
        coalesce({{ parse_money('shipping_amount_raw') }}, 0) * fx_rate_to_reporting as shipping_amount,
        coalesce({{ parse_money('tax_amount_raw') }}, 0) * fx_rate_to_reporting as tax_amount
    from with_fx_rate

),

final as (

    select
        order_id,
        customer_id,
        channel,
        ordered_at,
        order_date,
        order_status,
        currency_code,
        fx_rate_to_reporting,
        cast(discount_amount as decimal(18, 2)) as discount_amount,
        cast(shipping_amount as decimal(18, 2)) as shipping_amount,
        cast(tax_amount as decimal(18, 2)) as tax_amount,
        case
            when order_id is null then 'missing_key'
            when {{ is_unparseable_timestamp('ordered_at_raw') }} or ordered_at_raw is null
                then 'unparseable_timestamp'
            when ordered_at > _loaded_at then 'future_timestamp'
            when fx_rate_to_reporting is null then 'unknown_currency'
            when
                {{ is_invalid_money('discount_amount_raw') }}
                or {{ is_invalid_money('shipping_amount_raw') }}
                or {{ is_invalid_money('tax_amount_raw') }}
                then 'invalid_amount'
        end as quarantine_reason,
        _loaded_at
    from converted

)

select * from final
