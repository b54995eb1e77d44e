{#- Recency, frequency and monetary scores 1-5 for every customer with a purchase by the as-of
    date. Scores are quintiles of the buyers: score = 1 + floor(5 * (rank - 1) / buyers), where
    rank is the standard competition rank (ties share the lowest rank), so customers with equal
    values always share a score, and a value held by many customers can leave a score empty.
    Recency ranks fewer days since the last purchase higher; frequency counts purchase days;
    monetary is net revenue to date. The RFM code is the three digits, e.g. 545. #}
with

purchases as (

    select * from {{ ref('int_customer_purchases_summarised') }}

),

segments as (

    select * from {{ ref('rfm_segments') }}

),

scored as (

    select
        customer_id,
        days_since_last_purchase,
        purchase_days,
        net_revenue,
        {{ rfm_score_columns() }}
    from purchases

),

final as (

    {{ rfm_code_and_segment('scored', 'segments') }}

)

select * from final
