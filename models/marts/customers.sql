with

customers as (

    select * from {{ ref('int_customers_resolved') }}

),

purchases as (

    select * from {{ ref('int_customer_purchases_summarised') }}

),

orders as (

    select * from {{ ref('int_customer_orders_summarised') }}

),

as_of as (

    select as_of_date from {{ ref('int_build_dates') }}

),

final as (

    select
        customers.customer_id,
        as_of.as_of_date,
        customers.crm_record_count,
        customers.signup_date,
        customers.acquisition_channel,
        customers.country_code,
        customers.region,
        customers.city,
        customers.gender,
        customers.birth_year,
        customers.has_loyalty_card,
        customers.has_marketing_consent,
        purchases.customer_id is not null as has_purchased,
        purchases.first_purchase_date,
        purchases.last_purchase_date,
        coalesce(purchases.purchase_days, 0) as purchase_days,
        coalesce(purchases.purchase_orders, 0) as purchase_orders,
        cast(coalesce(orders.net_revenue, 0) as decimal(18, 2)) as net_revenue,
        case
            when purchases.customer_id is null then 'none'
            when purchases.online_purchase_days > 0 and purchases.store_purchase_days > 0 then 'omnichannel'
            when purchases.store_purchase_days > 0 then 'store_only'
            else 'online_only'
        end as channel_mix,
        case
            when purchases.customer_id is null then 'none'
            when purchases.store_orders >= greatest(purchases.web_orders, purchases.app_orders) then 'store'
            when purchases.app_orders > purchases.web_orders then 'app'
            else 'web'
        end as preferred_channel
    from customers
    cross join as_of
    left join purchases
        on customers.customer_id = purchases.customer_id
    left join orders
        on customers.customer_id = orders.customer_id

)

select * from final
