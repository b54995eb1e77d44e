{#- One row per identifier of an erased person: the rule of doc block identity_erasure. A person
    with any erasure request, whatever its date or quality, is erased whole: every CRM record of
    the person, every identifier they are known by (int_customer_identifiers_linked) and every
    email and card any version of their records ever carried. A view over the staged raw data, so
    the warehouse stores none of these values; everything that must know who is erased reads it. #}
{{ config(materialized='view') }}
with

privacy_requests as (

    select * from {{ ref('stg_crm__privacy_requests') }}

),

crm_customers as (

    select * from {{ ref('stg_crm__customers') }}

),

customer_records as (

    select * from {{ ref('int_customer_records_grouped') }}

),

identifiers as (

    select * from {{ ref('int_customer_identifiers_linked') }}

),

erasure_requests as (

    {#- Privacy wins: a quarantined request (a bad or future timestamp) still erases. Only a
        request without a customer id names nobody. #}
    select
        customer_id as source_customer_id,
        min(requested_at) as requested_at
    from privacy_requests
    where request_type = 'erasure' and customer_id is not null
    group by 1

),

erased_people as (

    {#- The person of each requested record; a requested id with no CRM record as of the as-of
        date is a person of its own. #}
    select
        coalesce(customer_records.customer_id, erasure_requests.source_customer_id) as customer_id,
        min(erasure_requests.requested_at) as requested_at
    from erasure_requests
    left join customer_records
        on erasure_requests.source_customer_id = customer_records.source_customer_id
    group by 1

),

linked as (

    select
        identifiers.identifier_type,
        identifiers.identifier_value,
        identifiers.customer_id
    from identifiers
    inner join erased_people
        on identifiers.customer_id = erased_people.customer_id

),

requested_ids as (

    select
        {{ identifier_type('customer_id') }} as identifier_type,
        erasure_requests.source_customer_id as identifier_value,
        erasure_requests.source_customer_id as customer_id
    from erasure_requests
    left join customer_records
        on erasure_requests.source_customer_id = customer_records.source_customer_id
    where customer_records.source_customer_id is null

),

erased_records as (

    select
        identifier_value as source_customer_id,
        customer_id
    from linked
    where identifier_type = {{ identifier_type('customer_id') }}

    union all

    select
        identifier_value as source_customer_id,
        customer_id
    from requested_ids

),

record_versions as (

    {#- Emails and cards on any version of an erased person's records, clean or quarantined, of
        any date. A value that names another, not erased, person as of the as-of date is theirs. #}
    {%- for type_name, column in [('email', 'email_normalised'), ('loyalty_card', 'loyalty_card_number')] %}
        {%- if not loop.first %}

            union all
        {%- endif %}

        select
            {{ identifier_type(type_name) }} as identifier_type,
            crm_customers.{{ column }} as identifier_value,
            erased_records.customer_id
        from crm_customers
        inner join erased_records
            on crm_customers.customer_id = erased_records.source_customer_id
        where crm_customers.{{ column }} is not null
    {%- endfor %}

),

other_versions as (

    select record_versions.*
    from record_versions
    left join identifiers
        on
            record_versions.identifier_type = identifiers.identifier_type
            and record_versions.identifier_value = identifiers.identifier_value
    where identifiers.identifier_value is null

),

unioned as (

    select * from linked
    union all
    select * from requested_ids
    union all
    select * from other_versions

),

deduplicated as (

    {#- A card on records of two erased people is one row, of the smaller customer id. #}
    select
        unioned.identifier_type,
        unioned.identifier_value,
        min(unioned.customer_id) as customer_id,
        min(erased_people.requested_at) as requested_at
    from unioned
    left join erased_people
        on unioned.customer_id = erased_people.customer_id
    group by 1, 2

),

final as (

    select
        {{ dbt.concat(["identifier_type", "':'", "identifier_value"]) }} as erased_identifier_id,
        customer_id,
        identifier_type,
        identifier_value,
        requested_at
    from deduplicated

)

select * from final
