{#- Per CRM acquisition channel and cohort month (month of the first purchase): customers
    acquired, that channel's marketing spend in the month, CAC, realised 12-month value, predicted
    CLV and the CLV:CAC ratio. Spend months without customers and customer months without spend
    both get a row. Definitions: _marketing__docs.md (marketing_clv_to_cac_ratio). #}
with

customers as (

    select * from {{ ref('customers') }}

),

customer_clv as (

    select * from {{ ref('customer_clv') }}

),

orders as (

    select * from {{ ref('int_orders_netted') }}

),

channel_spends as (

    select * from {{ ref('stg_marketing__channel_spends') }}

),

as_of as (

    select as_of_date from {{ ref('int_build_dates') }}

),

buyers as (

    select
        customers.customer_id,
        customers.acquisition_channel,
        customers.first_purchase_date,
        {{ cohort_month('customers.first_purchase_date') }} as cohort_month,
        customers.net_revenue as historical_revenue,
        customer_clv.predicted_clv
    from customers
    inner join customer_clv
        on customers.customer_id = customer_clv.customer_id
    where customers.has_purchased

),

first_year_revenue as (

    {#- Net revenue (credit notes included, orders_rules) of the orders in the 365 days starting on
        the first purchase day. #}
    select
        buyers.customer_id,
        sum(orders.net_revenue) as net_revenue_12m
    from buyers
    inner join orders
        on
            buyers.customer_id = orders.customer_id
            and buyers.first_purchase_date <= orders.order_date
            and orders.order_date
            < {{ dbt.dateadd('day', 365, 'buyers.first_purchase_date') }}
    group by 1

),

acquisitions as (

    select
        buyers.acquisition_channel,
        buyers.cohort_month,
        count(*) as customers_acquired,
        avg(coalesce(first_year_revenue.net_revenue_12m, 0)) as realised_12m_value_per_customer,
        avg(buyers.historical_revenue) as historical_value_per_customer,
        avg(buyers.predicted_clv) as predicted_clv_per_customer
    from buyers
    left join first_year_revenue
        on buyers.customer_id = first_year_revenue.customer_id
    group by 1, 2

),

spends as (

    select
        channel_spends.acquisition_channel,
        cast({{ dbt.date_trunc('month', 'channel_spends.spend_date') }} as date) as cohort_month,
        sum(channel_spends.spend_amount) as marketing_spend
    from channel_spends
    cross join as_of
    where
        channel_spends.quarantine_reason is null
        and channel_spends.spend_date <= as_of.as_of_date
    group by 1, 2

),

paid_channels as (

    select distinct acquisition_channel
    from spends

),

channel_months as (

    select
        acquisition_channel,
        cohort_month
    from acquisitions

    union

    select
        acquisition_channel,
        cohort_month
    from spends

),

joined as (

    select
        channel_months.acquisition_channel,
        channel_months.cohort_month,
        as_of.as_of_date,
        paid_channels.acquisition_channel is not null as is_paid_channel,
        cast(
            {{ dbt.dateadd('day', 364, dbt.last_day('channel_months.cohort_month', 'month')) }} as date
        ) as realised_12m_complete_date,
        coalesce(acquisitions.customers_acquired, 0) as customers_acquired,
        coalesce(spends.marketing_spend, 0) as marketing_spend,
        acquisitions.realised_12m_value_per_customer,
        acquisitions.historical_value_per_customer,
        acquisitions.predicted_clv_per_customer
    from channel_months
    cross join as_of
    left join acquisitions
        on
            channel_months.acquisition_channel = acquisitions.acquisition_channel
            and channel_months.cohort_month = acquisitions.cohort_month
    left join spends
        on
            channel_months.acquisition_channel = spends.acquisition_channel
            and channel_months.cohort_month = spends.cohort_month
    left join paid_channels
        on channel_months.acquisition_channel = paid_channels.acquisition_channel

),

valued as (

    select
        *,
        realised_12m_complete_date <= as_of_date as is_12m_complete,
        case
            when customers_acquired > 0 and is_paid_channel then marketing_spend / customers_acquired
        end as cac,
        case
            when customers_acquired = 0 then null
            when realised_12m_complete_date <= as_of_date then realised_12m_value_per_customer
            else historical_value_per_customer + predicted_clv_per_customer
        end as value_per_customer
    from joined

),

final as (

    select
        as_of_date,
        acquisition_channel,
        cohort_month,
        cast({{ dbt.last_day('cohort_month', 'month') }} as date) > as_of_date as is_partial_month,
        is_paid_channel,
        cast(customers_acquired as bigint) as customers_acquired,
        cast(marketing_spend as decimal(18, 2)) as marketing_spend,
        cast(cac as decimal(18, 2)) as cac,
        is_12m_complete,
        realised_12m_complete_date,
        cast(
            case when is_12m_complete then realised_12m_value_per_customer end as decimal(18, 2)
        ) as realised_12m_value_per_customer,
        cast(historical_value_per_customer as decimal(18, 2)) as historical_value_per_customer,
        cast(predicted_clv_per_customer as decimal(18, 2)) as predicted_clv_per_customer,
        case
            when customers_acquired > 0
                then case when is_12m_complete then 'realised_12m' else 'historical_plus_predicted' end
        end as value_basis,
        cast(value_per_customer as decimal(18, 2)) as value_per_customer,
        cast(value_per_customer / nullif(cac, 0) as double) as clv_to_cac_ratio
    from valued

)

select * from final
