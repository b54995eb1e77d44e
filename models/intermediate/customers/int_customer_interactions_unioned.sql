{#- Every interaction of a resolved customer, one row per event, whatever its date: web and app
    sessions and product views (anonymous ids stitched to the customer who logged in), email
    opens, clicks and unsubscribes, store visits, support tickets, product reviews, NPS answers and
    referrals sent. Consumers apply the as-of date. is_advocacy_signal marks a promoter NPS answer,
    a review of advocate_min_review_rating or more, or a referral. An erased person's interactions
    are not here (doc block identity_erasure). interaction_id is the source table and its row id. #}
with

identifiers as (

    select * from {{ ref('int_customer_identifiers_flagged') }}

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
        {{ dbt.concat(["'web_events:'", "web_events.web_event_id"]) }} as interaction_id,
        coalesce(by_customer.customer_id, by_anonymous.customer_id) as customer_id,
        coalesce(by_customer.is_customer_erased, by_anonymous.is_customer_erased, false) as is_customer_erased,
        'web_' || web_events.event_type as interaction_type,
        web_events.occurred_at,
        cast(null as integer) as score
    from web_events
    {{ join_identity('by_customer', 'customer_id', 'web_events.customer_id') }}
    {{ join_identity('by_anonymous', 'anonymous_id', 'web_events.anonymous_id') }}
    where web_events.quarantine_reason is null and web_events.event_type in ('session_start', 'product_view')

    union all

    select
        {{ dbt.concat(["'email_events:'", "email_events.email_event_id"]) }} as interaction_id,
        identifiers.customer_id,
        identifiers.is_customer_erased,
        'email_' || email_events.event_type as interaction_type,
        email_events.occurred_at,
        null as score
    from email_events
    {{ join_identity('identifiers', 'customer_id', 'email_events.customer_id', 'inner') }}
    where email_events.quarantine_reason is null and email_events.event_type in ('open', 'click', 'unsubscribe')

    union all

    select
        {{ dbt.concat(["'store_visits:'", "store_visits.store_visit_id"]) }} as interaction_id,
        identifiers.customer_id,
        identifiers.is_customer_erased,
        'store_visit' as interaction_type,
        store_visits.visited_at as occurred_at,
        null as score
    from store_visits
    {{ join_identity('identifiers', 'loyalty_card', 'store_visits.loyalty_card_number', 'inner') }}
    where store_visits.quarantine_reason is null

    union all

    select
        {{ dbt.concat(["'support_tickets:'", "support_tickets.support_ticket_id"]) }} as interaction_id,
        identifiers.customer_id,
        identifiers.is_customer_erased,
        'support_ticket' as interaction_type,
        support_tickets.opened_at as occurred_at,
        null as score
    from support_tickets
    {{ join_identity('identifiers', 'email', 'support_tickets.email_normalised', 'inner') }}
    where support_tickets.quarantine_reason is null

    union all

    select
        {{ dbt.concat(["'product_reviews:'", "product_reviews.product_review_id"]) }} as interaction_id,
        identifiers.customer_id,
        identifiers.is_customer_erased,
        'review' as interaction_type,
        product_reviews.reviewed_at as occurred_at,
        product_reviews.rating as score
    from product_reviews
    {{ join_identity('identifiers', 'customer_id', 'product_reviews.customer_id', 'inner') }}
    where product_reviews.quarantine_reason is null

    union all

    select
        {{ dbt.concat(["'nps_responses:'", "nps_responses.nps_response_id"]) }} as interaction_id,
        identifiers.customer_id,
        identifiers.is_customer_erased,
        'nps' as interaction_type,
        nps_responses.responded_at as occurred_at,
        nps_responses.nps_score as score
    from nps_responses
    {{ join_identity('identifiers', 'email', 'nps_responses.email_normalised', 'inner') }}
    where nps_responses.quarantine_reason is null

    union all

    select
        {{ dbt.concat(["'referrals:'", "referrals.referral_id"]) }} as interaction_id,
        identifiers.customer_id,
        identifiers.is_customer_erased,
        'referral' as interaction_type,
        referrals.referred_at as occurred_at,
        null as score
    from referrals
    {{ join_identity('identifiers', 'customer_id', 'referrals.referrer_customer_id', 'inner') }}
    where referrals.quarantine_reason is null

),

final as (

    select
        interaction_id,
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
    where customer_id is not null and not is_customer_erased

)

select * from final
