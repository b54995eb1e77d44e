{#- One row per resolved customer with any interaction by the as-of date: web and app sessions
    and product views (anonymous ids stitched at login), email opens and clicks, store visits,
    support tickets, product reviews, NPS answers and referrals, counted over the engagement
    window (var engagement_window_days) and the last 365 days, plus the latest NPS and rating. #}
{%- set window = var('engagement_window_days') -%}
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

as_of as (

    select as_of_date from {{ ref('int_as_of_date') }}

),

interactions as (

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

in_range as (

    select
        interactions.*,
        cast(interactions.occurred_at as date) as occurred_date,
        {{ dbt.datediff("cast(interactions.occurred_at as date)", "as_of.as_of_date", "day") }} as days_ago,
        coalesce(
            (interactions.interaction_type = 'nps' and interactions.score >= {{ var('promoter_min_score') }})
            or (
                interactions.interaction_type = 'review'
                and interactions.score >= {{ var('advocate_min_review_rating') }}
            )
            or interactions.interaction_type = 'referral',
            false
        ) as is_advocacy_signal
    from interactions
    cross join as_of
    where
        interactions.customer_id is not null
        and cast(interactions.occurred_at as date) <= as_of.as_of_date

),

final as (

    select
        customer_id,
        max(occurred_date) as last_interaction_date,
        count(case when interaction_type = 'web_session_start' and days_ago < {{ window }} then 1 end)
            as sessions_last_{{ window }}d,
        count(case when interaction_type = 'web_product_view' and days_ago < {{ window }} then 1 end)
            as product_views_last_{{ window }}d,
        count(case when interaction_type = 'email_open' and days_ago < {{ window }} then 1 end)
            as email_opens_last_{{ window }}d,
        count(case when interaction_type = 'email_click' and days_ago < {{ window }} then 1 end)
            as email_clicks_last_{{ window }}d,
        count(case when interaction_type = 'store_visit' and days_ago < {{ window }} then 1 end)
            as store_visits_last_{{ window }}d,
        count(case when interaction_type = 'support_ticket' and days_ago < 365 then 1 end)
            as support_tickets_last_365d,
        count(case when interaction_type = 'review' and days_ago < 365 then 1 end) as reviews_last_365d,
        count(case when interaction_type = 'nps' and days_ago < 365 then 1 end) as nps_responses_last_365d,
        count(case when interaction_type = 'referral' and days_ago < 365 then 1 end) as referrals_last_365d,
        bool_or(interaction_type = 'email_unsubscribe') as has_unsubscribed,
        avg(case when interaction_type = 'review' then score end) as avg_review_rating,
        arg_max(
            case when interaction_type = 'review' then score end,
            case when interaction_type = 'review' then occurred_at end
        ) as latest_review_rating,
        arg_max(
            case when interaction_type = 'nps' then score end,
            case when interaction_type = 'nps' then occurred_at end
        ) as latest_nps_score,
        max(case when interaction_type = 'nps' then occurred_date end) as latest_nps_date,
        min(
            case when days_ago < 365 and is_advocacy_signal then occurred_date end
        ) as first_advocacy_signal_date_365d,
        bool_or(days_ago < 365 and is_advocacy_signal) as has_advocacy_signal_365d
    from in_range
    group by 1

)

select * from final
