{#- One row per resolved customer with any interaction by the as-of date: web and app sessions
    and product views (anonymous ids stitched at login), email opens and clicks, store visits,
    support tickets, product reviews, NPS answers and referrals, counted over the engagement
    window (var engagement_window_days) and the long window (var engagement_long_window_days, 365:
    the *_365d columns), plus the latest NPS and rating, and the engagement score (weights: vars
    engagement_weight_*, doc block marts_engagement_level). #}
{%- set window = var('engagement_window_days') -%}
{%- set long_window = var('engagement_long_window_days') -%}
with

interactions as (

    select * from {{ ref('int_customer_interactions_unioned') }}

),

as_of as (

    select as_of_date from {{ ref('int_build_dates') }}

),

in_range as (

    select
        interactions.*,
        {{ dbt.datediff("interactions.occurred_date", "as_of.as_of_date", "day") }} as days_ago
    from interactions
    cross join as_of
    where interactions.occurred_date <= as_of.as_of_date

),

aggregated as (

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
        count(case when interaction_type = 'support_ticket' and days_ago < {{ long_window }} then 1 end)
            as support_tickets_last_365d,
        count(case when interaction_type = 'review' and days_ago < {{ long_window }} then 1 end) as reviews_last_365d,
        count(case when interaction_type = 'nps' and days_ago < {{ long_window }} then 1 end) as nps_responses_last_365d,
        count(case when interaction_type = 'referral' and days_ago < {{ long_window }} then 1 end) as referrals_last_365d,
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
            case when days_ago < {{ long_window }} and is_advocacy_signal then occurred_date end
        ) as first_advocacy_signal_date_365d,
        bool_or(days_ago < {{ long_window }} and is_advocacy_signal) as has_advocacy_signal_365d
    from in_range
    group by 1

),

final as (

    select
        *,
        sessions_last_{{ window }}d * {{ var('engagement_weight_session') }}
        + email_clicks_last_{{ window }}d * {{ var('engagement_weight_email_click') }}
        + email_opens_last_{{ window }}d * {{ var('engagement_weight_email_open') }}
        + store_visits_last_{{ window }}d * {{ var('engagement_weight_store_visit') }}
        + product_views_last_{{ window }}d * {{ var('engagement_weight_product_view') }} as engagement_score
    from aggregated

)

select * from final
