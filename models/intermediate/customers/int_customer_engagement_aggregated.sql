{#- One row per resolved customer with any interaction by the as-of date: web and app sessions
    and product views (anonymous ids stitched at login), email opens and clicks, store visits,
    support tickets, product reviews, NPS answers and referrals, counted over the engagement
    window (var engagement_window_days) and the last 365 days, plus the latest NPS and rating. #}
{%- set window = var('engagement_window_days') -%}
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
