{#- The identity lookup every order and interaction joins through (macro join_identity): each
    identifier once, with its resolved customer_id and whether it is an erased person's. The
    stored map (int_customer_identifiers_mapped) plus the erased identifiers (int_customers_erased,
    a view): ephemeral, so the erased identifiers are never stored (doc block identity_erasure). #}
{{ config(materialized='ephemeral') }}
with

identifiers as (

    select * from {{ ref('int_customer_identifiers_mapped') }}

),

erased as (

    select * from {{ ref('int_customers_erased') }}

),

final as (

    select
        identifier_type,
        identifier_value,
        customer_id,
        false as is_customer_erased
    from identifiers

    union all

    select
        identifier_type,
        identifier_value,
        customer_id,
        true as is_customer_erased
    from erased

)

select * from final
