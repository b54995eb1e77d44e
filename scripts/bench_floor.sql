-- The floor of a build: the irreducible work of the warehouse on the same raw files, in one
-- DuckDB script (scripts/bench_floor.py runs it on a raw directory, the {raw} below).
-- Parse timestamps and money, keep the latest load of each key, net the lines of each order
-- (credit lines and returns included), a per-customer RFM summary with recency windows and
-- per-customer interaction counts. No identity resolution, FX, quarantine or tests: a yardstick.
-- The latest load of each key is one hash aggregate (arg_max); strings are parsed after it.

create temp table orders as
with

raw_orders as (
    select 'shop' as source, order_id, customer_id, ordered_at, status, discount_amount, _loaded_at
    from read_parquet('{raw}/shop_orders/*.parquet')
    union all
    select 'pos', transaction_id, loyalty_card_number, transacted_at, status, discount_amount, _loaded_at
    from read_parquet('{raw}/pos_transactions/*.parquet')
),

latest as (
    select
        source,
        order_id,
        arg_max({'customer_id': customer_id, 'ordered_at': ordered_at, 'status': status,
                 'discount_amount': discount_amount}, _loaded_at) as r
    from raw_orders
    group by 1, 2
)

select
    source,
    trim(order_id) as order_id,
    nullif(trim(r.customer_id), '') as customer_id,
    timezone('UTC', try_cast(nullif(trim(r.ordered_at), '') as timestamptz)) as ordered_at,
    lower(trim(r.status)) as order_status,
    try_cast(nullif(regexp_replace(trim(r.discount_amount), '[^0-9.\-]', '', 'g'), '') as decimal(18, 2))
        as discount_amount
from latest;

create temp table order_lines as
with

raw_lines as (
    select 'shop' as source, order_line_id, order_id, quantity, returned_quantity, unit_price, _loaded_at
    from read_parquet('{raw}/shop_order_lines/*.parquet')
    union all
    select 'pos', transaction_line_id, transaction_id, quantity, returned_quantity, unit_price, _loaded_at
    from read_parquet('{raw}/pos_transaction_lines/*.parquet')
),

latest as (
    select
        source,
        order_line_id,
        arg_max({'order_id': order_id, 'quantity': quantity, 'returned_quantity': returned_quantity,
                 'unit_price': unit_price}, _loaded_at) as r
    from raw_lines
    group by 1, 2
)

select
    source,
    trim(r.order_id) as order_id,
    r.quantity as quantity,
    least(greatest(coalesce(r.returned_quantity, 0), 0), greatest(r.quantity, 0)) as returned_quantity,
    try_cast(nullif(regexp_replace(trim(r.unit_price), '[^0-9.\-]', '', 'g'), '') as decimal(18, 2)) as unit_price
from latest;

create temp table orders_netted as
with

netted_lines as (
    select
        source,
        order_id,
        sum(case when quantity > 0 then quantity * unit_price else 0 end) as gross_amount,
        sum(case when quantity < 0 then -quantity * unit_price else 0 end) as credit_amount,
        sum(returned_quantity * unit_price) as returned_amount
    from order_lines
    group by 1, 2
)

select
    orders.order_id,
    orders.customer_id,
    cast(orders.ordered_at as date) as order_date,
    case
        when orders.order_status in ('cancelled', 'canceled', 'void', 'voided') then 0
        else netted_lines.gross_amount - netted_lines.credit_amount - netted_lines.returned_amount
            - coalesce(orders.discount_amount, 0)
    end as net_amount
from orders
inner join netted_lines on orders.source = netted_lines.source and orders.order_id = netted_lines.order_id
where orders.customer_id is not null and orders.ordered_at is not null;

create temp table customer_rfm as
with as_of as (select max(order_date) as as_of_date from orders_netted)
select
    customer_id,
    count(distinct order_date) as frequency,
    sum(net_amount) as monetary,
    as_of.as_of_date - max(order_date) as recency_days,
    count(distinct order_date) filter (where order_date > as_of.as_of_date - 90) as purchase_days_90,
    count(distinct order_date) filter (where order_date > as_of.as_of_date - 365) as purchase_days_365,
    sum(net_amount) filter (where order_date > as_of.as_of_date - 365) as net_revenue_365,
    ntile(5) over (order by sum(net_amount)) as monetary_score
from orders_netted
cross join as_of
group by customer_id, as_of.as_of_date;

create temp table customer_interactions as
with

raw_events as (
    select 'web' as source, event_id, customer_id, event_type, occurred_at, _loaded_at
    from read_parquet('{raw}/web_events/*.parquet')
    union all
    select 'email', event_id, customer_id, event_type, occurred_at, _loaded_at
    from read_parquet('{raw}/email_events/*.parquet')
),

latest as (
    select
        source,
        event_id,
        arg_max({'customer_id': customer_id, 'event_type': event_type, 'occurred_at': occurred_at}, _loaded_at) as r
    from raw_events
    group by 1, 2
),

parsed as (
    select
        source,
        nullif(trim(r.customer_id), '') as customer_id,
        lower(trim(r.event_type)) as event_type,
        timezone('UTC', try_cast(nullif(trim(r.occurred_at), '') as timestamptz)) as occurred_at
    from latest
)

select
    customer_id,
    count(*) filter (where source = 'web') as web_events,
    count(*) filter (where source = 'web' and event_type = 'session_start') as sessions,
    count(*) filter (where source = 'email' and event_type = 'open') as email_opens,
    count(*) filter (where source = 'email' and event_type = 'click') as email_clicks,
    max(occurred_at) as last_interaction_at
from parsed
where customer_id is not null
group by 1;

select
    (select count(*) from orders_netted) as orders,
    (select count(*) from customer_rfm) as buyers,
    (select count(*) from customer_interactions) as interacting_customers;
