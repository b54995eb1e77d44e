{#- Sentiment by lifecycle stage x RFM segment as of the as-of date: customers, NPS among the
    customers who answered in the last 365 days, average review rating and support tickets per
    1,000 customers. One row per stage and segment that has customers. Definitions:
    _marketing__docs.md (marketing_segment_nps). #}
with

sentiment as (

    select * from {{ ref('customer_sentiment') }}

),

lifecycle as (

    select * from {{ ref('customer_lifecycle') }}

),

segments as (

    select * from {{ ref('customer_segments') }}

),

as_of as (

    select as_of_date from {{ ref('int_build_dates') }}

),

aggregated as (

    select
        lifecycle.lifecycle_stage,
        segments.rfm_segment,
        count(*) as customers,
        count(case when sentiment.is_nps_respondent_last_365d then 1 end) as nps_respondents_last_365d,
        count(
            case when sentiment.is_nps_respondent_last_365d and sentiment.latest_nps_category = 'promoter' then 1 end
        ) as promoters_last_365d,
        count(
            case when sentiment.is_nps_respondent_last_365d and sentiment.latest_nps_category = 'passive' then 1 end
        ) as passives_last_365d,
        count(
            case when sentiment.is_nps_respondent_last_365d and sentiment.latest_nps_category = 'detractor' then 1 end
        ) as detractors_last_365d,
        sum(sentiment.reviews_last_365d) as reviews_last_365d,
        sum(sentiment.avg_review_rating_last_365d * sentiment.reviews_last_365d) as review_rating_sum_last_365d,
        sum(sentiment.support_tickets_last_365d) as support_tickets_last_365d
    from sentiment
    inner join lifecycle
        on sentiment.customer_id = lifecycle.customer_id
    inner join segments
        on sentiment.customer_id = segments.customer_id
    group by 1, 2

),

final as (

    select
        as_of.as_of_date,
        aggregated.lifecycle_stage,
        aggregated.rfm_segment,
        cast(aggregated.customers as bigint) as customers,
        cast(aggregated.nps_respondents_last_365d as bigint) as nps_respondents_last_365d,
        cast(aggregated.promoters_last_365d as bigint) as promoters_last_365d,
        cast(aggregated.passives_last_365d as bigint) as passives_last_365d,
        cast(aggregated.detractors_last_365d as bigint) as detractors_last_365d,
        cast(
            round(
                100.0 * (aggregated.promoters_last_365d - aggregated.detractors_last_365d)
                / nullif(aggregated.nps_respondents_last_365d, 0),
                1
            ) as double
        ) as nps,
        cast(aggregated.reviews_last_365d as bigint) as reviews_last_365d,
        cast(
            round(aggregated.review_rating_sum_last_365d / nullif(aggregated.reviews_last_365d, 0), 2) as double
        ) as avg_review_rating_last_365d,
        cast(aggregated.support_tickets_last_365d as bigint) as support_tickets_last_365d,
        cast(
            round(1000.0 * aggregated.support_tickets_last_365d / aggregated.customers, 1) as double
        ) as support_tickets_per_1000_customers
    from aggregated
    cross join as_of

)

select * from final
