{#- Historical value, the inputs of the BG/NBD and Gamma-Gamma models in days (as the reference
    CLV libraries define them: frequency = repeat purchase days, recency_days = first to last
    purchase day, tenure_days = first purchase day to the as-of date, avg_repeat_order_value = mean
    spend per repeat purchase day, the first excluded) and the models' predictions. #}
with

customers as (

    select * from {{ ref('customers') }}

),

purchases as (

    select * from {{ ref('int_customer_purchases_summarised') }}

),

predictions as (

    select * from {{ ref('int_customers_clv_predicted') }}

),

lifecycle as (

    {#- The build's one p_alive: the as-of row of the lifecycle snapshots (the chosen purchase model's). #}
    select * from {{ ref('int_customer_snapshots_staged') }}
    where is_as_of_date

),

ranked as (

    {#- Share of valued customers with a strictly higher predicted CLV: 0 for the top one. #}
    select
        customer_id,
        (rank() over (order by predicted_clv desc) - 1) * 1.0 / count(*) over () as clv_rank_share
    from predictions
    where predicted_clv >= {{ var('clv_tier_min_value') }}

),

final as (

    select
        customers.customer_id,
        customers.as_of_date,
        customers.has_purchased,
        customers.net_revenue as historical_revenue,
        cast(purchases.margin_amount as decimal(18, 2)) as historical_margin,
        cast(
            purchases.margin_amount / nullif(purchases.cost_known_revenue, 0) as double
        ) as historical_margin_rate,
        cast(purchases.net_revenue / nullif(purchases.purchase_orders, 0) as decimal(18, 2))
            as avg_order_value,
        cast(
            {{ dbt.datediff("purchases.first_purchase_date", "purchases.last_purchase_date", "day") }} * 1.0
            / nullif(purchases.purchase_days - 1, 0)
            as double
        ) as avg_days_between_purchases,
        purchases.purchase_days - 1 as frequency,
        {{ dbt.datediff("purchases.first_purchase_date", "purchases.last_purchase_date", "day") }}
            as recency_days,
        {{ dbt.datediff("purchases.first_purchase_date", "customers.as_of_date", "day") }} as tenure_days,
        cast(purchases.avg_repeat_day_revenue as decimal(18, 2)) as avg_repeat_order_value,
        lifecycle.p_alive,
        lifecycle.churn_probability,
        {{ var('clv_horizon_days') }} as clv_horizon_days,
        predictions.expected_purchases_90d,
        predictions.expected_purchases_horizon as expected_purchases,
        cast(predictions.expected_avg_order_value as decimal(18, 2)) as expected_avg_order_value,
        {#- Prospects are not scored and predicted 0; a buyer the models could not score is null. #}
        cast(
            case when purchases.customer_id is null then 0 else predictions.predicted_revenue end
            as decimal(18, 2)
        ) as predicted_revenue,
        cast(
            case when purchases.customer_id is null then 0 else predictions.predicted_clv end
            as decimal(18, 2)
        ) as predicted_clv,
        {#- The 80 % prediction interval over the horizon (parameter and purchase-count uncertainty). #}
        predictions.expected_purchases_p10,
        predictions.expected_purchases_p90,
        cast(predictions.predicted_clv_p10 as decimal(18, 2)) as predicted_clv_p10,
        cast(predictions.predicted_clv_p90 as decimal(18, 2)) as predicted_clv_p90,
        predictions.margin_rate_used as clv_margin_rate,
        predictions.is_margin_rate_estimated,
        predictions.expected_next_purchase_date,
        case
            when purchases.customer_id is not null and predictions.predicted_clv is null then 'not_predicted'
            when ranked.customer_id is null then 'no_value'
            when ranked.clv_rank_share < {{ var('clv_tier_top_share') }} then 'top_10pct'
            when ranked.clv_rank_share < {{ var('clv_tier_next_share') }} then 'next_20pct'
            when ranked.clv_rank_share < {{ var('clv_tier_middle_share') }} then 'middle_40pct'
            else 'low_30pct'
        end as clv_tier
    from customers
    left join purchases
        on customers.customer_id = purchases.customer_id
    left join predictions
        on customers.customer_id = predictions.customer_id
    left join ranked
        on customers.customer_id = ranked.customer_id
    left join lifecycle
        on customers.customer_id = lifecycle.customer_id

)

select * from final
