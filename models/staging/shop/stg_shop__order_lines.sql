with

source as (

    select * from {{ source('shop', 'shop_order_lines') }}

),

renamed as (

    select
        {{ clean_key('order_line_id') }} as order_line_id,
        {{ clean_key('order_id') }} as order_id,
        nullif(trim(sku), '') as sku,
        coalesce(nullif(lower(trim(category)), ''), 'unknown') as category,
        quantity,
        unit_price as unit_price_raw,
        unit_cost as unit_cost_local,
        coalesce(returned_quantity, 0) as returned_quantity,
        _loaded_at
    from source

),

deduplicated as (

    select * from renamed
    {{ latest_load_per_key(['order_line_id'], 'order_id') }}

),

final as (

    select
        order_line_id,
        order_id,
        sku,
        category,
        quantity,
        least(greatest(returned_quantity, 0), greatest(quantity, 0)) as returned_quantity,
        cast({{ parse_money('unit_price_raw') }} as decimal(18, 2)) as unit_price_local,
        cast(unit_cost_local as decimal(18, 2)) as unit_cost_local,
        case
            when order_line_id is null or order_id is null then 'missing_key'
            when quantity is null or quantity = 0 then 'invalid_quantity'
            when {{ is_invalid_money('unit_price_raw') }} or nullif(trim(unit_price_raw), '') is null
                then 'invalid_amount'
        end as quarantine_reason,
        _loaded_at
    from deduplicated

)

select * from final
