{#- The one date every recency computation measures from: dbt var as_of_date, or when it is not
    set, the latest valid purchase date in the data. Never current_date: a rebuild is reproducible. #}
with

shop_orders as (

    select * from {{ ref('stg_shop__orders') }}

),

pos_transactions as (

    select * from {{ ref('stg_pos__transactions') }}

),

purchase_dates as (

    select order_date as purchase_date
    from shop_orders
    where quarantine_reason is null and order_status = 'completed'

    union all

    select transaction_date as purchase_date
    from pos_transactions
    where quarantine_reason is null and transaction_status = 'completed'

),

final as (

    select
        {% if var('as_of_date') %}
            cast('{{ var("as_of_date") }}' as date) as as_of_date,
            true as is_set_by_var,
        {% else %}
            max(purchase_date) as as_of_date,
            false as is_set_by_var,
        {% endif %}
        count(*) as purchases_in_data
    from purchase_dates

)

select * from final
