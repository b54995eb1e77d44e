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

erased_people as (

    select distinct customer_id
    from erased

),

final as (

    select customer_records.*
    from customer_records
    left join erased_people
        on customer_records.customer_id = erased_people.customer_id
    where erased_people.customer_id is null

)

select * from final
