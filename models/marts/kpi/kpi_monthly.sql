{#- Monthly customer KPIs, overall and by the customer's current preferred channel, region and
    acquisition channel: one row per period (the history's snapshot dates: month ends and the
    as-of date) per dimension value. Definitions: _kpi__docs.md.

    Built for scale: every source is read once and reduced first to one row per period and
    combination of the three dimension values (the "cube": its size depends on the periods and the
    attribute values, not on the customers; the big aggregations group by the period and an
    integer combination id); the four breakdowns are then one aggregation of that small cube, so
    no step multiplies customer rows. Counts and sums are additive across the cube, so every rate
    is computed only at the end from its numerator and denominator. #}
with

history as (

    select * from {{ ref('customer_lifecycle_history') }}

),

customers as (

    select * from {{ ref('customers') }}

),

orders as (

    select * from {{ ref('int_orders_netted') }}

),

interactions as (

    select * from {{ ref('int_customer_interactions_unioned') }}

),

as_of as (

    select as_of_date from {{ ref('int_build_dates') }}

),

customer_attributes as (

    {#- Current attributes, not as of the period. #}
    select
        customer_id,
        preferred_channel,
        coalesce(region, 'unknown') as region,
        coalesce(acquisition_channel, 'unknown') as acquisition_channel
    from customers

),

customer_dimensions as (

    {#- Each distinct combination of the three attributes gets a small integer id, so the big
        aggregations below group by two narrow keys. #}
    select
        customer_id,
        preferred_channel,
        region,
        acquisition_channel,
        dense_rank() over (order by preferred_channel, region, acquisition_channel) as combination_id
    from customer_attributes

),

combinations as (

    select
        combination_id,
        preferred_channel,
        region,
        acquisition_channel
    from customer_dimensions
    group by 1, 2, 3, 4

),

history_cube as (

    {#- The one pass over the history (one row per customer per snapshot date). A customer's
        previous snapshot is the previous month end, so previous_stage is the stage at the start
        of the period. #}
    select
        history.snapshot_date as period_end_date,
        customer_dimensions.combination_id,
        count(*) as history_rows,
        sum(case when history.previous_stage not in ('prospect', 'churned') then 1 else 0 end)
            as customers_at_period_start,
        sum(
            case
                when history.previous_stage not in ('prospect', 'churned') and history.lifecycle_stage <> 'churned'
                    then 1
                else 0
            end
        ) as retained_customers,
        sum(
            case
                when history.lifecycle_stage = 'churned' and coalesce(history.previous_stage, 'none') <> 'churned' then 1
                else 0
            end
        ) as churned_customers,
        sum(case when history.period_purchase_days > 0 then 1 else 0 end) as active_customers,
        sum(
            case
                when
                    history.lifecycle_stage = 'new'
                    and history.period_purchase_days > 0
                    and history.purchase_days = history.period_purchase_days
                    then 1
                else 0
            end
        ) as new_customers,
        sum(
            case when history.period_purchase_days > 0 and history.purchase_days > history.period_purchase_days then 1 else 0 end
        ) as repeat_customers,
        sum(
            case
                when history.lifecycle_stage = 'reactivated' and coalesce(history.previous_stage, 'none') <> 'reactivated'
                    then 1
                else 0
            end
        ) as reactivated_customers
    from history
    inner join customer_dimensions
        on history.customer_id = customer_dimensions.customer_id
    group by 1, 2

),

order_cube as (

    {#- Orders of known customers: revenue nets every order (credit notes and cancellations
        included, orders_rules), purchase orders count the purchases. An order belongs to the
        period ending at its month end, or at the as-of date in the as-of month. #}
    select
        {{ kpi_period_end_date('orders.order_date', 'as_of.as_of_date') }} as period_end_date,
        customer_dimensions.combination_id,
        count(case when orders.is_purchase then 1 end) as purchase_orders,
        sum(orders.net_revenue) as revenue,
        sum(case when orders.margin_amount is not null then orders.net_revenue end) as cost_known_revenue,
        sum(orders.margin_amount) as margin
    from orders
    cross join as_of
    inner join customer_dimensions
        on orders.customer_id = customer_dimensions.customer_id
    where orders.order_date <= as_of.as_of_date
    group by 1, 2

),

anonymous_sales as (

    {#- Sales tied to no customer (guest checkouts, anonymous till sales, erased customers): in
        the overall revenue, in no customer and so in no dimension value. #}
    select
        {{ kpi_period_end_date('orders.order_date', 'as_of.as_of_date') }} as period_end_date,
        count(case when orders.is_purchase then 1 end) as anonymous_purchase_orders,
        sum(orders.net_revenue) as anonymous_revenue
    from orders
    cross join as_of
    where orders.customer_id is null and orders.order_date <= as_of.as_of_date
    group by 1

),

interaction_cube as (

    {#- NPS answers, reviews and support tickets, bucketed into periods like purchases. #}
    select
        {{ kpi_period_end_date('interactions.occurred_date', 'as_of.as_of_date') }} as period_end_date,
        customer_dimensions.combination_id,
        sum(
            case when interactions.interaction_type = 'nps' and interactions.score is not null then 1 else 0 end
        ) as nps_responses,
        sum(
            case
                when interactions.interaction_type = 'nps' and {{ nps_category('interactions.score') }} = 'promoter'
                    then 1
                else 0
            end
        ) as nps_promoters,
        sum(
            case
                when interactions.interaction_type = 'nps' and {{ nps_category('interactions.score') }} = 'detractor'
                    then 1
                else 0
            end
        ) as nps_detractors,
        sum(
            case when interactions.interaction_type = 'review' and interactions.score is not null then 1 else 0 end
        ) as reviews,
        sum(case when interactions.interaction_type = 'review' then interactions.score end) as review_rating_total,
        sum(case when interactions.interaction_type = 'support_ticket' then 1 else 0 end) as support_tickets
    from interactions
    cross join as_of
    inner join customer_dimensions
        on interactions.customer_id = customer_dimensions.customer_id
    where
        interactions.interaction_type in ('nps', 'review', 'support_ticket')
        and interactions.occurred_date <= as_of.as_of_date
    group by 1, 2

),

unioned_cubes as (

    select
        period_end_date,
        combination_id,
        history_rows,
        customers_at_period_start,
        retained_customers,
        churned_customers,
        active_customers,
        new_customers,
        repeat_customers,
        reactivated_customers,
        0 as purchase_orders,
        0 as revenue,
        0 as cost_known_revenue,
        cast(null as decimal(38, 2)) as margin,
        0 as nps_responses,
        0 as nps_promoters,
        0 as nps_detractors,
        0 as reviews,
        0 as review_rating_total,
        0 as support_tickets
    from history_cube

    union all

    select
        period_end_date,
        combination_id,
        0 as history_rows,
        0 as customers_at_period_start,
        0 as retained_customers,
        0 as churned_customers,
        0 as active_customers,
        0 as new_customers,
        0 as repeat_customers,
        0 as reactivated_customers,
        purchase_orders,
        revenue,
        coalesce(cost_known_revenue, 0) as cost_known_revenue,
        {#- Null, not 0, when no purchase order of the combination has a known cost. #}
        margin,
        0 as nps_responses,
        0 as nps_promoters,
        0 as nps_detractors,
        0 as reviews,
        0 as review_rating_total,
        0 as support_tickets
    from order_cube

    union all

    select
        period_end_date,
        combination_id,
        0 as history_rows,
        0 as customers_at_period_start,
        0 as retained_customers,
        0 as churned_customers,
        0 as active_customers,
        0 as new_customers,
        0 as repeat_customers,
        0 as reactivated_customers,
        0 as purchase_orders,
        0 as revenue,
        0 as cost_known_revenue,
        cast(null as decimal(38, 2)) as margin,
        nps_responses,
        nps_promoters,
        nps_detractors,
        reviews,
        coalesce(review_rating_total, 0) as review_rating_total,
        support_tickets
    from interaction_cube

),

combined_cube as (

    {#- One row per period and attribute combination, whatever the number of customers. #}
    select
        unioned_cubes.period_end_date,
        combinations.preferred_channel,
        combinations.region,
        combinations.acquisition_channel,
        sum(unioned_cubes.history_rows) as history_rows,
        sum(unioned_cubes.customers_at_period_start) as customers_at_period_start,
        sum(unioned_cubes.retained_customers) as retained_customers,
        sum(unioned_cubes.churned_customers) as churned_customers,
        sum(unioned_cubes.active_customers) as active_customers,
        sum(unioned_cubes.new_customers) as new_customers,
        sum(unioned_cubes.repeat_customers) as repeat_customers,
        sum(unioned_cubes.reactivated_customers) as reactivated_customers,
        sum(unioned_cubes.purchase_orders) as purchase_orders,
        sum(unioned_cubes.revenue) as revenue,
        sum(unioned_cubes.cost_known_revenue) as cost_known_revenue,
        sum(unioned_cubes.margin) as margin,
        sum(unioned_cubes.nps_responses) as nps_responses,
        sum(unioned_cubes.nps_promoters) as nps_promoters,
        sum(unioned_cubes.nps_detractors) as nps_detractors,
        sum(unioned_cubes.reviews) as reviews,
        sum(unioned_cubes.review_rating_total) as review_rating_total,
        sum(unioned_cubes.support_tickets) as support_tickets
    from unioned_cubes
    inner join combinations
        on unioned_cubes.combination_id = combinations.combination_id
    group by 1, 2, 3, 4

),

periods as (

    {#- The history's snapshot dates; purchases and interactions before the first one (the data
        starts with the first month of purchases) have no period. #}
    select period_end_date
    from combined_cube
    group by 1
    having sum(history_rows) > 0

),

breakdowns as (

    select 'overall' as dimension
    union all
    select 'preferred_channel' as dimension
    union all
    select 'region' as dimension
    union all
    select 'acquisition_channel' as dimension

),

rolled_up as (

    {#- The four breakdowns in one aggregation: the small cube (not the customers) is repeated
        once per breakdown and grouped by the breakdown's value. #}
    select
        combined_cube.period_end_date,
        breakdowns.dimension,
        case breakdowns.dimension
            when 'preferred_channel' then combined_cube.preferred_channel
            when 'region' then combined_cube.region
            when 'acquisition_channel' then combined_cube.acquisition_channel
            else 'all'
        end as dimension_value,
        sum(combined_cube.customers_at_period_start) as customers_at_period_start,
        sum(combined_cube.retained_customers) as retained_customers,
        sum(combined_cube.churned_customers) as churned_customers,
        sum(combined_cube.active_customers) as active_customers,
        sum(combined_cube.new_customers) as new_customers,
        sum(combined_cube.repeat_customers) as repeat_customers,
        sum(combined_cube.reactivated_customers) as reactivated_customers,
        sum(combined_cube.purchase_orders) as purchase_orders,
        sum(combined_cube.revenue) as revenue,
        sum(combined_cube.cost_known_revenue) as cost_known_revenue,
        sum(combined_cube.margin) as margin,
        sum(combined_cube.nps_responses) as nps_responses,
        sum(combined_cube.nps_promoters) as nps_promoters,
        sum(combined_cube.nps_detractors) as nps_detractors,
        sum(combined_cube.reviews) as reviews,
        sum(combined_cube.review_rating_total) as review_rating_total,
        sum(combined_cube.support_tickets) as support_tickets
    from combined_cube
    inner join periods
        on combined_cube.period_end_date = periods.period_end_date
    cross join breakdowns
    group by 1, 2, 3

),

final as (

    select
        {{ dbt.concat(["cast(rolled_up.period_end_date as varchar)", "'|'", "rolled_up.dimension", "'|'", "rolled_up.dimension_value"]) }}
            as kpi_row_id,
        cast({{ dbt.date_trunc('month', 'rolled_up.period_end_date') }} as date) as period_start_date,
        rolled_up.period_end_date,
        rolled_up.period_end_date = as_of.as_of_date as is_as_of_period,
        rolled_up.period_end_date < cast({{ dbt.last_day('rolled_up.period_end_date', 'month') }} as date)
            as is_partial_month,
        rolled_up.dimension,
        rolled_up.dimension_value,
        cast(rolled_up.customers_at_period_start as bigint) as customers_at_period_start,
        cast(rolled_up.retained_customers as bigint) as retained_customers,
        cast(rolled_up.retained_customers as double) / nullif(rolled_up.customers_at_period_start, 0)
            as retention_rate,
        cast(rolled_up.churned_customers as bigint) as churned_customers,
        cast(rolled_up.customers_at_period_start - rolled_up.retained_customers as double)
        / nullif(rolled_up.customers_at_period_start, 0) as churn_rate,
        cast(rolled_up.active_customers as bigint) as active_customers,
        cast(rolled_up.new_customers as bigint) as new_customers,
        cast(rolled_up.repeat_customers as bigint) as repeat_customers,
        cast(rolled_up.repeat_customers as double) / nullif(rolled_up.active_customers, 0) as repeat_purchase_rate,
        cast(rolled_up.reactivated_customers as bigint) as reactivated_customers,
        cast(rolled_up.purchase_orders as bigint) as purchase_orders,
        cast(rolled_up.revenue as decimal(18, 2)) as revenue,
        case
            when rolled_up.dimension = 'overall' then cast(coalesce(anonymous_sales.anonymous_purchase_orders, 0) as bigint)
        end as anonymous_purchase_orders,
        case
            when rolled_up.dimension = 'overall' then cast(coalesce(anonymous_sales.anonymous_revenue, 0) as decimal(18, 2))
        end as anonymous_revenue,
        case
            when rolled_up.dimension = 'overall'
                then cast(rolled_up.revenue + coalesce(anonymous_sales.anonymous_revenue, 0) as decimal(18, 2))
        end as total_revenue,
        cast(rolled_up.revenue / nullif(rolled_up.purchase_orders, 0) as decimal(18, 2)) as average_order_value,
        cast(rolled_up.purchase_orders as double) / nullif(rolled_up.active_customers, 0) as purchase_frequency,
        cast(rolled_up.cost_known_revenue as decimal(18, 2)) as cost_known_revenue,
        cast(rolled_up.margin as decimal(18, 2)) as margin,
        cast(rolled_up.nps_responses as bigint) as nps_responses,
        cast(rolled_up.nps_promoters as bigint) as nps_promoters,
        cast(rolled_up.nps_detractors as bigint) as nps_detractors,
        cast(100.0 * (rolled_up.nps_promoters - rolled_up.nps_detractors) as double)
        / nullif(rolled_up.nps_responses, 0) as nps,
        cast(rolled_up.reviews as bigint) as reviews,
        cast(rolled_up.review_rating_total as double) / nullif(rolled_up.reviews, 0) as avg_review_rating,
        cast(rolled_up.support_tickets as bigint) as support_tickets,
        cast(1000.0 * rolled_up.support_tickets as double)
        / nullif(rolled_up.active_customers, 0) as support_tickets_per_1000_active
    from rolled_up
    cross join as_of
    left join anonymous_sales
        on rolled_up.period_end_date = anonymous_sales.period_end_date

)

select * from final
