{#- Unified orders up to the as-of date, net of cancellations and returns, in the reporting
    currency. Revenue excludes tax and shipping. The netting and purchase-occasion rules are in
    the doc block orders_rules (_orders__docs.md), their one written definition: a cancelled order
    nets to zero; returned units (and a wholly returned order) come off gross merchandise and the
    order discount in proportion; credit lines (negative quantity or price: cancellations and
    returns booked as their own lines or credit notes) are subtracted, so an order's net revenue
    can be negative and a customer's net revenue is the sum of all their lines. A purchase is a
    kept order on a customer day whose reversals do not cancel its purchases. #}
with

orders as (

    select * from {{ ref('int_orders_unioned') }}

),

order_lines as (

    select * from {{ ref('int_order_lines_unioned') }}

),

as_of as (

    select as_of_date from {{ ref('int_build_dates') }}

),

classified_lines as (

    {#- A credit line has a negative quantity or a negative price; its absolute value is credited. #}
    select
        *,
        quantity < 0 or unit_price < 0 as is_credit_line
    from order_lines
    where exclusion_reason is null

),

line_totals as (

    select
        order_id,
        parent_table,
        count(*) as line_count,
        count(case when not is_credit_line then 1 end) as merchandise_line_count,
        count(case when is_credit_line then 1 end) as credit_line_count,
        coalesce(sum(case when not is_credit_line then quantity end), 0) as units,
        coalesce(sum(case when is_credit_line then abs(quantity) end), 0) as credited_units,
        coalesce(sum(case when not is_credit_line then quantity * unit_price end), 0) as gross_merchandise_amount,
        coalesce(sum(case when not is_credit_line then returned_quantity * unit_price end), 0)
            as returned_merchandise_amount,
        coalesce(sum(case when is_credit_line then abs(quantity * unit_price) end), 0) as credit_amount,
        sum(case when not is_credit_line then (quantity - returned_quantity) * unit_cost end) as kept_cost_amount,
        coalesce(sum(case when is_credit_line then abs(quantity) * unit_cost end), 0) as credited_cost_amount,
        coalesce(bool_or(unit_cost is null and not is_credit_line and quantity > returned_quantity), false)
            as has_unknown_kept_cost,
        coalesce(bool_or(unit_cost is null and is_credit_line), false) as has_unknown_credit_cost
    from classified_lines
    group by 1, 2

),

category_totals as (

    select
        order_id,
        parent_table,
        category,
        sum(quantity * unit_price) as category_amount
    from classified_lines
    where category is not null and not is_credit_line
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
        coalesce(line_totals.merchandise_line_count, 0) as merchandise_line_count,
        coalesce(line_totals.credit_line_count, 0) as credit_line_count,
        coalesce(line_totals.units, 0) as units,
        coalesce(line_totals.credited_units, 0) as credited_units,
        coalesce(line_totals.credit_amount, 0) as credit_amount,
        coalesce(line_totals.credited_cost_amount, 0) as credited_cost_amount,
        coalesce(line_totals.gross_merchandise_amount, 0) as gross_merchandise_amount,
        case
            when orders.order_status = 'returned' then coalesce(line_totals.gross_merchandise_amount, 0)
            else coalesce(line_totals.returned_merchandise_amount, 0)
        end as returned_merchandise_amount,
        line_totals.kept_cost_amount,
        coalesce(line_totals.has_unknown_kept_cost, false) as has_unknown_kept_cost,
        coalesce(line_totals.has_unknown_credit_cost, false) as has_unknown_credit_cost,
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

valued as (

    select
        *,
        case
            when order_status = 'cancelled' then 0
            else greatest(gross_merchandise_amount * kept_share - discount_amount * kept_share, 0) - credit_amount
        end as net_amount,
        {#- An order that keeps merchandise: not cancelled, not wholly returned, not only credit lines
            (an order without any counted line keeps its zero value, as before lines existed). #}
        kept_share > 0 and (merchandise_line_count > 0 or line_count = 0) as is_kept_order,
        order_status = 'cancelled' or credit_line_count > 0 or returned_merchandise_amount > 0 as has_reversal,
        case when kept_share > 0 then coalesce(kept_cost_amount, 0) else 0 end - credited_cost_amount as net_cost_amount,
        (kept_share > 0 and has_unknown_kept_cost) or has_unknown_credit_cost as has_unknown_cost
    from netted

),

occasions as (

    {#- The purchase-occasion rule: a customer's day (an anonymous order is its own day) is a
        purchase occasion when it has a kept order and either its net spend is positive or it has
        no cancellation, return or credit at all (a zero-priced purchase still counts). #}
    select
        *,
        is_kept_order
        and (
            sum(net_amount) over (
                partition by customer_id, order_date, case when customer_id is null then source_table || order_id end
            ) > 0
            or not bool_or(has_reversal) over (
                partition by customer_id, order_date, case when customer_id is null then source_table || order_id end
            )
        ) as is_purchase
    from valued

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
        credit_line_count,
        units,
        credited_units,
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
        cast(case when order_status = 'cancelled' then 0 else credit_amount end as decimal(18, 2)) as credit_amount,
        cast(discount_amount * kept_share as decimal(18, 2)) as discount_amount,
        cast(net_amount as decimal(18, 2)) as net_revenue,
        case
            when order_status = 'cancelled' then cast(0 as decimal(18, 2))
            when not has_unknown_cost then cast(net_cost_amount as decimal(18, 2))
        end as cost_amount,
        case
            when order_status = 'cancelled' then cast(0 as decimal(18, 2))
            when not has_unknown_cost
                then cast(net_amount as decimal(18, 2)) - cast(net_cost_amount as decimal(18, 2))
        end as margin_amount,
        discount_amount > 0 and order_status <> 'cancelled' as has_discount,
        order_status = 'returned' or returned_merchandise_amount > 0 or credit_amount > 0 as has_return,
        is_purchase,
        tax_amount,
        shipping_amount
    from occasions

)

select * from final
