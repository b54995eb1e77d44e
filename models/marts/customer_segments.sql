{#- One row per customer: RFM scores, code and segment (rfm_segments seed), and the value,
    behavioural, demographic, geographic and engagement segments. Definitions: _marts__docs.md. #}
with

customers as (

    select * from {{ ref('customers') }}

),

rfm as (

    select * from {{ ref('int_customers_rfm_scored') }}

),

purchases as (

    select * from {{ ref('int_customer_purchases_summarised') }}

),

engagement as (

    select * from {{ ref('int_customer_engagement_aggregated') }}

),

value_ranked as (

    select
        customer_id,
        {#- Share of buyers with strictly more revenue: 0 for the top customer. #}
        (rank() over (order by net_revenue desc) - 1) * 1.0 / count(*) over () as revenue_rank_share
    from purchases

),

final as (

    select
        customers.customer_id,
        customers.as_of_date,
        rfm.recency_score,
        rfm.frequency_score,
        rfm.monetary_score,
        rfm.rfm_code,
        coalesce(rfm.rfm_segment, 'Prospect') as rfm_segment,
        case
            when value_ranked.customer_id is null then 'none'
            when value_ranked.revenue_rank_share < {{ var('value_tier_top_share') }} then 'top_10pct'
            when value_ranked.revenue_rank_share < {{ var('value_tier_high_share') }} then 'high'
            when value_ranked.revenue_rank_share < {{ var('value_tier_medium_share') }} then 'medium'
            else 'low'
        end as value_tier,
        customers.channel_mix,
        customers.preferred_channel,
        coalesce(purchases.favourite_category, 'none') as favourite_category,
        case
            when purchases.customer_id is null then 'none'
            when purchases.discounted_orders * 1.0 / purchases.purchase_orders
                >= {{ var('deal_seeker_min_discounted_share') }} then 'deal_seeker'
            when purchases.discounted_orders * 1.0 / purchases.purchase_orders
                >= {{ var('occasional_min_discounted_share') }} then 'occasional'
            else 'full_price'
        end as discount_affinity,
        case
            when customers.birth_year is null then 'unknown'
            when extract(year from customers.as_of_date) - customers.birth_year < 18 then 'under_18'
            when extract(year from customers.as_of_date) - customers.birth_year < 25 then '18-24'
            when extract(year from customers.as_of_date) - customers.birth_year < 35 then '25-34'
            when extract(year from customers.as_of_date) - customers.birth_year < 45 then '35-44'
            when extract(year from customers.as_of_date) - customers.birth_year < 55 then '45-54'
            when extract(year from customers.as_of_date) - customers.birth_year < 65 then '55-64'
            else '65+'
        end as age_band,
        customers.gender,
        coalesce(customers.country_code, 'unknown') as country_code,
        coalesce(customers.region, 'unknown') as region,
        case
            when engagement.engagement_score is null or engagement.engagement_score = 0
                then 'none'
            when engagement.engagement_score >= {{ var('engagement_high_min_score') }} then 'high'
            when engagement.engagement_score >= {{ var('engagement_medium_min_score') }} then 'medium'
            else 'low'
        end as engagement_level,
        cast(coalesce(engagement.engagement_score, 0) as double) as engagement_score
    from customers
    left join rfm
        on customers.customer_id = rfm.customer_id
    left join value_ranked
        on customers.customer_id = value_ranked.customer_id
    left join purchases
        on customers.customer_id = purchases.customer_id
    left join engagement
        on customers.customer_id = engagement.customer_id

)

select * from final
