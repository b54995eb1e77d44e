{#- Unified orders up to the as-of date, net of cancellations and returns, in the reporting
    currency. Revenue excludes tax and shipping. A cancelled order nets to zero; returned units
    (and a fully returned order) are taken off gross merchandise value, and the order discount is
    taken off in proportion to what was kept. Cost and margin are known only when every kept unit
    has a unit cost. A purchase is an order that was not cancelled and not wholly returned, whatever its amount
    (a zero-value order is still a purchase occasion, as the reference CLV models count them). #}
with

orders as (

    select * from {{ ref('int_orders_unioned') }}

),

order_lines as (

    select * from {{ ref('int_order_lines_unioned') }}

),

as_of as (

    select as_of_date from {{ ref('int_as_of_date') }}

),

line_totals as (

    select
        order_id,
        parent_table,
        count(*) as line_count,
        sum(quantity) as units,
        sum(returned_quantity) as returned_units,
        sum(quantity * unit_price) as gross_merchandise_amount,
        sum(returned_quantity * unit_price) as returned_merchandise_amount,
        sum((quantity - returned_quantity) * unit_cost) as kept_cost_amount,
        bool_or(unit_cost is null and quantity > returned_quantity) as has_unknown_cost
    from order_lines
    where exclusion_reason is null
    group by 1, 2

),

category_totals as (

    select
        order_id,
        parent_table,
        category,
        sum(quantity * unit_price) as category_amount
    from order_lines
    where exclusion_reason is null and category is not null
    group by 1, 2, 3

),

top_categories as (

    {#- The category with the most merchandise value; ties go to the alphabetically first. #}
    select
        order_id,
        parent_table,
        category as top_category
    from category_totals
    qualify row_number() over (
            partition by order_id, parent_table order by category_amount desc, category asc
        ) = 1

),

joined as (

    select
        orders.*,
        coalesce(line_totals.line_count, 0) as line_count,
        coalesce(line_totals.units, 0) as units,
        coalesce(line_totals.gross_merchandise_amount, 0) as gross_merchandise_amount,
        case
            when orders.order_status = 'returned' then coalesce(line_totals.gross_merchandise_amount, 0)
            else coalesce(line_totals.returned_merchandise_amount, 0)
        end as returned_merchandise_amount,
        line_totals.kept_cost_amount,
        coalesce(line_totals.has_unknown_cost, false) as has_unknown_cost,
        top_categories.top_category
    from orders
    cross join as_of
    left join line_totals
        on orders.order_id = line_totals.order_id and orders.source_table = line_totals.parent_table
    left join top_categories
        on orders.order_id = top_categories.order_id and orders.source_table = top_categories.parent_table
    where
        orders.exclusion_reason is null
        and orders.order_date <= as_of.as_of_date

),

netted as (

    select
        *,
        case
            when order_status = 'cancelled' then 0
            when gross_merchandise_amount <= 0 then case when order_status = 'returned' then 0 else 1 end
            else 1 - returned_merchandise_amount / gross_merchandise_amount
        end as kept_share
    from joined

),

final as (

    select
        order_id,
        source_table,
        channel,
        customer_id,
        customer_id is null as is_anonymous,
        store_id,
        ordered_at,
        order_date,
        order_status,
        currency_code,
        line_count,
        units,
        top_category,
        cast(gross_merchandise_amount as decimal(18, 2)) as gross_merchandise_amount,
        cast(
            case when order_status = 'cancelled' then gross_merchandise_amount else 0 end
            as decimal(18, 2)
        ) as cancelled_amount,
        cast(
            case when order_status = 'cancelled' then 0 else returned_merchandise_amount end
            as decimal(18, 2)
        ) as returned_amount,
        cast(discount_amount * kept_share as decimal(18, 2)) as discount_amount,
        cast(
            greatest(gross_merchandise_amount * kept_share - discount_amount * kept_share, 0)
            as decimal(18, 2)
        ) as net_revenue,
        case
            when order_status = 'cancelled' or kept_share = 0 then cast(0 as decimal(18, 2))
            when not has_unknown_cost then cast(coalesce(kept_cost_amount, 0) as decimal(18, 2))
        end as cost_amount,
        case
            when order_status = 'cancelled' or kept_share = 0 then cast(0 as decimal(18, 2))
            when not has_unknown_cost
                then
                    cast(
                        greatest(gross_merchandise_amount * kept_share - discount_amount * kept_share, 0)
                        as decimal(18, 2)
                    )
                    - cast(coalesce(kept_cost_amount, 0) as decimal(18, 2))
        end as margin_amount,
        discount_amount > 0 and order_status <> 'cancelled' as has_discount,
        order_status = 'returned' or returned_merchandise_amount > 0 as has_return,
        kept_share > 0 as is_purchase,
        tax_amount,
        shipping_amount
    from netted

)

select * from final
