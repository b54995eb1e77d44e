{#- One row per CRM customer record (source customer id) that exists as of the as-of date, with the
    resolved customer_id of the person: records whose normalised emails match are one person, and
    the smallest source id of the group names it. The latest version of each record as of the
    as-of date supplies its attributes. Erased people are still here: ephemeral, so never stored;
    int_customers_erased reads it to find the whole person, int_customer_records_resolved is it
    without them (doc block identity_erasure). #}
{{ config(materialized='ephemeral') }}
with

crm_customers as (

    select * from {{ ref('stg_crm__customers') }}

),

privacy_requests as (

    select * from {{ ref('stg_crm__privacy_requests') }}

),

as_of as (

    select as_of_date from {{ ref('int_build_dates') }}

),

versions_as_of as (

    select crm_customers.*
    from crm_customers
    cross join as_of
    where
        crm_customers.quarantine_reason is null
        and cast(crm_customers.signed_up_at as date) <= as_of.as_of_date
    {#- The latest version updated by the as-of date; a record whose first version was written
        after it (signed up before, updated later) falls back to its earliest version. #}
    qualify row_number() over (
            partition by crm_customers.customer_id
            order by
                cast(crm_customers.updated_at as date) <= as_of.as_of_date desc,
                case
                    when cast(crm_customers.updated_at as date) <= as_of.as_of_date
                        then crm_customers.updated_at
                end desc,
                crm_customers.updated_at asc
        ) = 1

),

consent_withdrawals as (

    select
        privacy_requests.customer_id,
        max(privacy_requests.requested_at) as consent_withdrawn_at
    from privacy_requests
    cross join as_of
    where
        privacy_requests.request_type = 'consent_withdrawal'
        and privacy_requests.quarantine_reason is null
        and cast(privacy_requests.requested_at as date) <= as_of.as_of_date
    group by 1

),

resolved as (

    select
        versions_as_of.customer_id as source_customer_id,
        min(versions_as_of.customer_id) over (
            partition by coalesce(versions_as_of.email_normalised, versions_as_of.customer_id)
        ) as customer_id,
        versions_as_of.email_normalised,
        versions_as_of.first_name,
        versions_as_of.last_name,
        versions_as_of.loyalty_card_number,
        versions_as_of.birth_year,
        versions_as_of.gender,
        versions_as_of.country_code,
        versions_as_of.region,
        versions_as_of.city,
        versions_as_of.signed_up_at,
        versions_as_of.updated_at,
        versions_as_of.acquisition_channel,
        versions_as_of.has_marketing_consent,
        versions_as_of.is_test_account,
        consent_withdrawals.consent_withdrawn_at
    from versions_as_of
    left join consent_withdrawals
        on versions_as_of.customer_id = consent_withdrawals.customer_id

),

final as (

    select
        *,
        bool_or(is_test_account) over (partition by customer_id) as is_test_customer
    from resolved

)

select * from final
