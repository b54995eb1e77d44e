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
    left join erased
        on
            identifiers.identifier_type = erased.identifier_type
            and identifiers.identifier_value = erased.identifier_value
    where erased.identifier_value is null

)

select * from final
