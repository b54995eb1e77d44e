{#- Recency, frequency and monetary scores 1-5 for every customer with a purchase by the as-of
    date, scored by the macro rfm_scored (macros/rfm_scoring.sql: quintiles of the buyers that never
    split ties). Recency ranks fewer days since the last purchase higher; frequency counts purchase
    days; monetary is net revenue to date. The RFM code is the three digits, e.g. 545. #}
with

purchases as (

    select * from {{ ref('int_customer_purchases_summarised') }}

),

segments as (

    select * from {{ ref('rfm_segments') }}

),

final as (

    {{ rfm_scored('purchases', 'segments') }}

)

select * from final
