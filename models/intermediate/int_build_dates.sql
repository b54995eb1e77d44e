{#- The dates of the build, each computed here only. as_of_date, the one date every recency
    computation measures from: dbt var as_of_date, or when it is not set, the latest date of a
    valid order in the data - a purchase, a cancellation, a return or a credit note alike, so no
    valid row is left out by default (a row dated after its load is quarantined in staging and
    never moves it). Never current_date: a rebuild is reproducible. comparison_date: the date
    segment_migration compares with, var segment_migration_days before the as-of date. #}
with

shop_orders as (

    select * from {{ ref('stg_shop__orders') }}

),

pos_transactions as (

    select * from {{ ref('stg_pos__transactions') }}

),

order_dates as (

    select order_date
    from shop_orders
    where quarantine_reason is null

    union all

    select transaction_date as order_date
    from pos_transactions
    where quarantine_reason is null

),

as_of as (

    select
        {% if var('as_of_date') %}
            cast('{{ var("as_of_date") }}' as date) as as_of_date,
            true as is_set_by_var,
        {% else %}
            max(order_date) as as_of_date,
            false as is_set_by_var,
        {% endif %}
        count(*) as orders_in_data
    from order_dates

),

final as (

    select
        as_of_date,
        cast({{ dbt.dateadd('day', -var('segment_migration_days'), 'as_of_date') }} as date) as comparison_date,
        is_set_by_var,
        orders_in_data
    from as_of

)

select * from final
