{#- One row per customer: their latest NPS answer and category, review ratings and support tickets
    as of the as-of date. NPS answers and tickets carry an email, reviews a CRM customer id: both
    reach the resolved customer through the identity lookup (macro join_identity), so no email reaches the
    mart. Definitions: _marketing__docs.md. #}
with

customers as (

    select * from {{ ref('customers') }}

),

identifiers as (

    select * from {{ ref('int_customer_identifiers_flagged') }}

),

nps_responses as (

    select * from {{ ref('stg_feedback__nps_responses') }}

),

product_reviews as (

    select * from {{ ref('stg_feedback__product_reviews') }}

),

support_tickets as (

    select * from {{ ref('stg_helpdesk__support_tickets') }}

),

as_of as (

    select as_of_date from {{ ref('int_build_dates') }}

),

nps as (

    select
        identifiers.customer_id,
        nps_responses.nps_response_id,
        nps_responses.nps_score,
        nps_responses.responded_at,
        cast(nps_responses.responded_at as date) as responded_date,
        {{ dbt.datediff('cast(nps_responses.responded_at as date)', 'as_of.as_of_date', 'day') }} as days_ago
    from nps_responses
    cross join as_of
    {{ join_identity('identifiers', 'email', 'nps_responses.email_normalised', 'inner') }}
    where
        nps_responses.quarantine_reason is null
        and cast(nps_responses.responded_at as date) <= as_of.as_of_date

),

latest_nps as (

    select
        customer_id,
        nps_score as latest_nps_score,
        responded_date as latest_nps_date
    from nps
    qualify row_number() over (
            partition by customer_id order by responded_at desc, nps_response_id desc
        ) = 1

),

nps_counts as (

    select
        customer_id,
        count(*) as nps_responses,
        count(case when days_ago < 365 then 1 end) as nps_responses_last_365d
    from nps
    group by 1

),

reviews as (

    select
        identifiers.customer_id,
        product_reviews.product_review_id,
        product_reviews.rating,
        product_reviews.reviewed_at,
        cast(product_reviews.reviewed_at as date) as reviewed_date,
        {{ dbt.datediff('cast(product_reviews.reviewed_at as date)', 'as_of.as_of_date', 'day') }} as days_ago
    from product_reviews
    cross join as_of
    {{ join_identity('identifiers', 'customer_id', 'product_reviews.customer_id', 'inner') }}
    where
        product_reviews.quarantine_reason is null
        and cast(product_reviews.reviewed_at as date) <= as_of.as_of_date

),

latest_reviews as (

    select
        customer_id,
        rating as latest_review_rating,
        reviewed_date as latest_review_date
    from reviews
    qualify row_number() over (
            partition by customer_id order by reviewed_at desc, product_review_id desc
        ) = 1

),

review_summary as (

    select
        customer_id,
        count(*) as reviews,
        avg(rating) as avg_review_rating,
        count(case when days_ago < 365 then 1 end) as reviews_last_365d,
        avg(case when days_ago < 365 then rating end) as avg_review_rating_last_365d
    from reviews
    group by 1

),

tickets as (

    select
        identifiers.customer_id,
        count(*) as support_tickets,
        count(
            case
                when {{ dbt.datediff('cast(support_tickets.opened_at as date)', 'as_of.as_of_date', 'day') }} < 365
                    then 1
            end
        ) as support_tickets_last_365d,
        max(cast(support_tickets.opened_at as date)) as last_support_ticket_date
    from support_tickets
    cross join as_of
    {{ join_identity('identifiers', 'email', 'support_tickets.email_normalised', 'inner') }}
    where
        support_tickets.quarantine_reason is null
        and cast(support_tickets.opened_at as date) <= as_of.as_of_date
    group by 1

),

final as (

    select
        customers.customer_id,
        customers.as_of_date,
        latest_nps.latest_nps_score,
        latest_nps.latest_nps_date,
        {{ nps_category('latest_nps.latest_nps_score') }} as latest_nps_category,
        coalesce(
            {{ dbt.datediff('latest_nps.latest_nps_date', 'customers.as_of_date', 'day') }} < 365, false
        ) as is_nps_respondent_last_365d,
        cast(coalesce(nps_counts.nps_responses, 0) as bigint) as nps_responses,
        cast(coalesce(nps_counts.nps_responses_last_365d, 0) as bigint) as nps_responses_last_365d,
        latest_reviews.latest_review_rating,
        latest_reviews.latest_review_date,
        cast(review_summary.avg_review_rating as double) as avg_review_rating,
        cast(coalesce(review_summary.reviews, 0) as bigint) as reviews,
        cast(coalesce(review_summary.reviews_last_365d, 0) as bigint) as reviews_last_365d,
        cast(review_summary.avg_review_rating_last_365d as double) as avg_review_rating_last_365d,
        cast(coalesce(tickets.support_tickets, 0) as bigint) as support_tickets,
        cast(coalesce(tickets.support_tickets_last_365d, 0) as bigint) as support_tickets_last_365d,
        tickets.last_support_ticket_date
    from customers
    left join latest_nps
        on customers.customer_id = latest_nps.customer_id
    left join nps_counts
        on customers.customer_id = nps_counts.customer_id
    left join latest_reviews
        on customers.customer_id = latest_reviews.customer_id
    left join review_summary
        on customers.customer_id = review_summary.customer_id
    left join tickets
        on customers.customer_id = tickets.customer_id

)

select * from final
