{#- Every interaction of a resolved customer, one row per event, whatever its date: web and app
    sessions and product views (anonymous ids stitched to the customer who logged in), email
    opens, clicks and unsubscribes, store visits, support tickets, product reviews, NPS answers and
    referrals sent. Consumers apply the as-of date. is_advocacy_signal marks a promoter NPS answer,
    a review of advocate_min_review_rating or more, or a referral. #}
with

identifiers as (

    select * from {{ ref('int_customer_identifiers_mapped') }}

),

web_events as (

    select * from {{ ref('stg_web__events') }}

),

email_events as (

    select * from {{ ref('stg_esp__email_events') }}

),

store_visits as (

    select * from {{ ref('stg_pos__store_visits') }}

),

support_tickets as (

    select * from {{ ref('stg_helpdesk__support_tickets') }}

),

product_reviews as (

    select * from {{ ref('stg_feedback__product_reviews') }}

),

nps_responses as (

    select * from {{ ref('stg_feedback__nps_responses') }}

),

referrals as (

    select * from {{ ref('stg_feedback__referrals') }}

),

unioned as (

    select
        coalesce(by_customer.customer_id, by_anonymous.customer_id) as customer_id,
        'web_' || web_events.event_type as interaction_type,
        web_events.occurred_at,
        cast(null as integer) as score
    from web_events
    left join identifiers as by_customer
        on by_customer.identifier_type = 'customer_id' and web_events.customer_id = by_customer.identifier_value
    left join identifiers as by_anonymous
        on
            by_anonymous.identifier_type = 'anonymous_id'
            and web_events.anonymous_id = by_anonymous.identifier_value
    where web_events.quarantine_reason is null and web_events.event_type in ('session_start', 'product_view')

    union all

    select
        identifiers.customer_id,
        'email_' || email_events.event_type as interaction_type,
        email_events.occurred_at,
        null as score
    from email_events
    inner join identifiers
        on identifiers.identifier_type = 'customer_id' and email_events.customer_id = identifiers.identifier_value
    where email_events.quarantine_reason is null and email_events.event_type in ('open', 'click', 'unsubscribe')

    union all

    select
        identifiers.customer_id,
        'store_visit' as interaction_type,
        store_visits.visited_at as occurred_at,
        null as score
    from store_visits
    inner join identifiers
        on
            identifiers.identifier_type = 'loyalty_card'
            and store_visits.loyalty_card_number = identifiers.identifier_value
    where store_visits.quarantine_reason is null

    union all

    select
        identifiers.customer_id,
        'support_ticket' as interaction_type,
        support_tickets.opened_at as occurred_at,
        null as score
    from support_tickets
    inner join identifiers
        on identifiers.identifier_type = 'email' and support_tickets.email_normalised = identifiers.identifier_value
    where support_tickets.quarantine_reason is null

    union all

    select
        identifiers.customer_id,
        'review' as interaction_type,
        product_reviews.reviewed_at as occurred_at,
        product_reviews.rating as score
    from product_reviews
    inner join identifiers
        on identifiers.identifier_type = 'customer_id' and product_reviews.customer_id = identifiers.identifier_value
    where product_reviews.quarantine_reason is null

    union all

    select
        identifiers.customer_id,
        'nps' as interaction_type,
        nps_responses.responded_at as occurred_at,
        nps_responses.nps_score as score
    from nps_responses
    inner join identifiers
        on identifiers.identifier_type = 'email' and nps_responses.email_normalised = identifiers.identifier_value
    where nps_responses.quarantine_reason is null

    union all

    select
        identifiers.customer_id,
        'referral' as interaction_type,
        referrals.referred_at as occurred_at,
        null as score
    from referrals
    inner join identifiers
        on
            identifiers.identifier_type = 'customer_id'
            and referrals.referrer_customer_id = identifiers.identifier_value
    where referrals.quarantine_reason is null

),

final as (

    select
        customer_id,
        interaction_type,
        occurred_at,
        cast(occurred_at as date) as occurred_date,
        score,
        coalesce(
            (interaction_type = 'nps' and score >= {{ var('promoter_min_score') }})
            or (interaction_type = 'review' and score >= {{ var('advocate_min_review_rating') }})
            or interaction_type = 'referral',
            false
        ) as is_advocacy_signal
    from unioned
    where customer_id is not null

)

select * from final
