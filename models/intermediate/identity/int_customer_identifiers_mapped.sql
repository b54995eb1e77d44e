{#- Every identifier a channel uses, mapped to the resolved customer_id
    (int_customer_identifiers_linked), erased people's identifiers left out: none is stored (doc
    block identity_erasure). #}
with

identifiers as (

    select * from {{ ref('int_customer_identifiers_linked') }}

),

erased as (

    select * from {{ ref('int_customers_erased') }}

),

final as (

    select identifiers.*
    from identifiers
    where not exists (
        select 1
        from erased
        where
            erased.identifier_type = identifiers.identifier_type
            and erased.identifier_value = identifiers.identifier_value
    )

)

select * from final
