{#- Every staging-valid order of the three sales channels (web and app from the shop platform,
    store from POS) in one shape, tied to the resolved customer. exclusion_reason says why an
    order is kept out of the customer marts (unknown_customer, test_account); the quarantine mart
    lists those rows. Store transactions without a known loyalty card and shop orders without a
    customer id (guest checkouts) stay as anonymous sales. #}
with

shop_orders as (

    select * from {{ ref('stg_shop__orders') }}

),

pos_transactions as (

    select * from {{ ref('stg_pos__transactions') }}

),

crm_customers as (

    select * from {{ ref('stg_crm__customers') }}

),

identifiers as (

    select * from {{ ref('int_customer_identifiers_flagged') }}

),

known_crm_ids as (

    select
        customer_id as source_customer_id,
        bool_or(is_test_account) as is_test_account
    from crm_customers
    where quarantine_reason is null
    group by 1

),

test_cards as (

    select distinct loyalty_card_number
    from crm_customers
    where quarantine_reason is null and is_test_account and loyalty_card_number is not null

),

shop as (

    select
        shop_orders.order_id,
        'shop_orders' as source_table,
        shop_orders.channel,
        shop_orders.customer_id as source_customer_id,
        cast(null as varchar) as loyalty_card_number,
        cast(null as varchar) as store_id,
        shop_orders.ordered_at,
        shop_orders.order_date,
        shop_orders.order_status,
        shop_orders.currency_code,
        shop_orders.fx_rate_to_reporting,
        shop_orders.discount_amount,
        shop_orders.shipping_amount,
        shop_orders.tax_amount,
        {#- An order without a customer id is a guest checkout: an anonymous sale, not a defect. #}
        case
            when shop_orders.customer_id is null then null
            when known_crm_ids.source_customer_id is null then 'unknown_customer'
            when known_crm_ids.is_test_account then 'test_account'
        end as exclusion_reason
    from shop_orders
    left join known_crm_ids
        on shop_orders.customer_id = known_crm_ids.source_customer_id
    where shop_orders.quarantine_reason is null

),

pos as (

    select
        pos_transactions.transaction_id as order_id,
        'pos_transactions' as source_table,
        'store' as channel,
        cast(null as varchar) as source_customer_id,
        pos_transactions.loyalty_card_number,
        pos_transactions.store_id,
        pos_transactions.transacted_at as ordered_at,
        pos_transactions.transaction_date as order_date,
        pos_transactions.transaction_status as order_status,
        pos_transactions.currency_code,
        pos_transactions.fx_rate_to_reporting,
        pos_transactions.discount_amount,
        cast(0 as decimal(18, 2)) as shipping_amount,
        pos_transactions.tax_amount,
        case when test_cards.loyalty_card_number is not null then 'test_account' end as exclusion_reason
    from pos_transactions
    left join test_cards
        on pos_transactions.loyalty_card_number = test_cards.loyalty_card_number
    where pos_transactions.quarantine_reason is null

),

unioned as (

    select * from shop
    union all
    select * from pos

),

identified as (

    select
        unioned.*,
        coalesce(by_customer_id.customer_id, by_card.customer_id) as resolved_customer_id,
        coalesce(by_customer_id.is_customer_erased, by_card.is_customer_erased, false) as is_customer_erased
    from unioned
    {{ join_identity('by_customer_id', 'customer_id', 'unioned.source_customer_id') }}
    {{ join_identity('by_card', 'loyalty_card', 'unioned.loyalty_card_number') }}

),

final as (

    select
        order_id,
        source_table,
        channel,
        {#- Orders of an erased customer stay in revenue totals but lose every link to the person:
            no customer id, source id or card (doc block identity_erasure). #}
        case when not is_customer_erased then resolved_customer_id end as customer_id,
        case when not is_customer_erased then source_customer_id end as source_customer_id,
        case when not is_customer_erased then loyalty_card_number end as loyalty_card_number,
        store_id,
        ordered_at,
        order_date,
        order_status,
        currency_code,
        fx_rate_to_reporting,
        discount_amount,
        shipping_amount,
        tax_amount,
        is_customer_erased,
        exclusion_reason
    from identified

)

select * from final
