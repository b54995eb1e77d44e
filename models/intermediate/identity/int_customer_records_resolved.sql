{#- One row per CRM customer record (source customer id) that exists as of the as-of date, with the
    resolved customer_id of the person (int_customer_records_grouped), erased people left out: no
    record of a person with an erasure request is stored (doc block identity_erasure). #}
with

customer_records as (

    select * from {{ ref('int_customer_records_grouped') }}

),

erased as (

    select * from {{ ref('int_customers_erased') }}

),

final as (

    select customer_records.*
    from customer_records
    where not exists (
        select 1
        from erased
        where erased.customer_id = customer_records.customer_id
    )

)

select * from final
