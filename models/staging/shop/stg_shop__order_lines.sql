{{ config(materialized='incremental') }}

with

source as (

    {{ select_new_loads(source('shop', 'shop_order_lines')) }}

),

renamed as (

    select
        {{ clean_key('order_line_id') }} as order_line_id,
        {{ clean_key('order_id') }} as order_id,
        {{ clean_key('sku') }} as sku,
        {{ clean_label('category', 'unknown') }} as category,
        quantity,
        {{ returned_quantity_capped('returned_quantity', 'quantity') }} as returned_quantity,
        unit_price as unit_price_raw,
        {{ parse_money('unit_price') }} as unit_price_local,
        cast(unit_cost as decimal(18, 2)) as unit_cost_local,
        _loaded_at
    from source

),

deduplicated as (

    {{ latest_load_per_key('renamed', ['order_line_id'], 'order_id') }}

),

staged as (

    select
        order_line_id,
        order_id,
        sku,
        category,
        quantity,
        returned_quantity,
        unit_price_local,
        unit_cost_local,
        {{ order_line_quarantine_reason(['order_line_id', 'order_id'], 'quantity', 'unit_price_raw') }} as quarantine_reason,
        _loaded_at
    from deduplicated

),

final as (

    {{ select_staged_rows('staged', 'order_line_id') }}

)

select * from final
