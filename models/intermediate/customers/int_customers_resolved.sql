{#- One row per resolved customer (a person across CRM records), test accounts left out (erased
    people are not in int_customer_records_resolved). Attributes come from the most recently updated record of the person;
    signed_up_at is the earliest signup of any of their records. Marketing consent holds when the
    latest record consents and no consent withdrawal came after that record was updated. #}
with

customer_records as (

    select * from {{ ref('int_customer_records_resolved') }}

),

people as (

    select
        customer_id,
        count(*) as crm_record_count,
        min(signed_up_at) as signed_up_at,
        max(consent_withdrawn_at) as consent_withdrawn_at,
        arg_max(source_customer_id, updated_at) as latest_source_customer_id
    from customer_records
    where not is_test_customer
    group by 1

),

final as (

    select
        people.customer_id,
        people.crm_record_count,
        people.signed_up_at,
        cast(people.signed_up_at as date) as signup_date,
        latest.birth_year,
        latest.gender,
        latest.country_code,
        latest.region,
        latest.city,
        latest.acquisition_channel,
        latest.loyalty_card_number is not null as has_loyalty_card,
        latest.has_marketing_consent
        and (
            people.consent_withdrawn_at is null
            or people.consent_withdrawn_at < latest.updated_at
        ) as has_marketing_consent,
        people.consent_withdrawn_at is not null as has_withdrawn_consent
    from people
    inner join customer_records as latest
        on people.latest_source_customer_id = latest.source_customer_id

)

select * from final
