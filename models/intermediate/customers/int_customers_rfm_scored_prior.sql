{#- RFM scores and segment of every buyer as of the segment-migration comparison date
    (int_build_dates.comparison_date), scored by the same macro (rfm_scored) as int_customers_rfm_scored. #}
with

purchase_days as (

    select * from {{ ref('int_purchase_days_aggregated') }}

),

comparison as (

    select comparison_date from {{ ref('int_build_dates') }}

),

purchases as (

    {#- The RFM inputs as they stood at the end of the comparison date. #}
    select
        purchase_days.customer_id,
        comparison.comparison_date,
        {{ dbt.datediff('max(purchase_days.purchase_date)', 'comparison.comparison_date', 'day') }}
            as days_since_last_purchase,
        count(*) as purchase_days,
        sum(purchase_days.net_revenue) as net_revenue
    from purchase_days
    cross join comparison
    where purchase_days.purchase_date <= comparison.comparison_date
    group by 1, 2

),

segments as (

    select * from {{ ref('rfm_segments') }}

),

final as (

    {{ rfm_scored('purchases', 'segments') }}

)

select * from final
