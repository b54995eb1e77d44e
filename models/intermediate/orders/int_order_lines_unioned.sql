{#- Every staging-valid line of both sales systems, with its parent order's currency applied:
    money in the reporting currency. exclusion_reason: orphan_line when the parent order is in no
    raw file, parent_quarantined when the parent was quarantined or excluded. #}
{#- The line columns both sales systems' staging models name alike. #}
{%- set shared_line_columns = [
    'sku', 'category', 'quantity', 'returned_quantity', 'unit_price_local', 'unit_cost_local',
] %}
with

shop_order_lines as (

    select * from {{ ref('stg_shop__order_lines') }}

),

pos_transaction_lines as (

    select * from {{ ref('stg_pos__transaction_lines') }}

),

shop_orders as (

    select * from {{ ref('stg_shop__orders') }}

),

pos_transactions as (

    select * from {{ ref('stg_pos__transactions') }}

),

orders as (

    select * from {{ ref('int_orders_unioned') }}

),

lines as (

    select
        order_line_id,
        'shop_order_lines' as source_table,
        'shop_orders' as parent_table,
        order_id,
        {{ shared_line_columns | join(',\n        ') }}
    from shop_order_lines
    where quarantine_reason is null

    union all

    select
        transaction_line_id as order_line_id,
        'pos_transaction_lines' as source_table,
        'pos_transactions' as parent_table,
        transaction_id as order_id,
        {{ shared_line_columns | join(',\n        ') }}
    from pos_transaction_lines
    where quarantine_reason is null

),

staged_parents as (

    select
        order_id,
        'shop_orders' as parent_table
    from shop_orders
    union all
    select
        transaction_id as order_id,
        'pos_transactions' as parent_table
    from pos_transactions

),

parents as (

    {#- Every staged parent once, with its unified order where it has one: the lines join this
        (small) table once instead of the orders and the staged parents in turn. #}
    select
        staged_parents.order_id,
        staged_parents.parent_table,
        orders.order_id is not null and orders.exclusion_reason is null as is_valid_parent,
        orders.fx_rate_to_reporting
    from staged_parents
    left join orders
        on
            staged_parents.order_id = orders.order_id
            and staged_parents.parent_table = orders.source_table

),

final as (

    select
        lines.order_line_id,
        lines.source_table,
        lines.order_id,
        lines.parent_table,
        lines.sku,
        lines.category,
        lines.quantity,
        lines.returned_quantity,
        {{ in_reporting_currency('lines.unit_price_local', 'parents.fx_rate_to_reporting') }} as unit_price,
        {{ in_reporting_currency('lines.unit_cost_local', 'parents.fx_rate_to_reporting') }} as unit_cost,
        case
            when parents.is_valid_parent then null
            when parents.order_id is null then 'orphan_line'
            else 'parent_quarantined'
        end as exclusion_reason
    from lines
    left join parents
        on
            lines.order_id = parents.order_id
            and lines.parent_table = parents.parent_table

)

select * from final
