{#- How customers moved between RFM segments and between lifecycle stages over the last
    segment_migration_days (default 90) days: a from x to matrix, one row per non-empty cell. From
    values are as of the comparison date, by the same rules and scoring as today's ('none': not yet
    a customer then; 'Prospect' / 'prospect': a customer without a purchase then). #}
with

customers as (

    select * from {{ ref('customers') }}

),

segments as (

    select * from {{ ref('customer_segments') }}

),

lifecycle as (

    select * from {{ ref('customer_lifecycle') }}

),

prior_stages as (

    select * from {{ ref('int_customer_snapshots_staged') }}
    where is_comparison_snapshot

),

prior_rfm as (

    select * from {{ ref('int_customers_rfm_scored_prior') }}

),

comparison as (

    select
        as_of_date,
        comparison_date
    from {{ ref('int_build_dates') }}

),

moves as (

    select
        customers.customer_id,
        'rfm_segment' as dimension,
        case
            when prior_stages.customer_id is null then 'none'
            else coalesce(prior_rfm.rfm_segment, 'Prospect')
        end as from_value,
        segments.rfm_segment as to_value,
        customers.net_revenue
    from customers
    inner join segments
        on customers.customer_id = segments.customer_id
    left join prior_stages
        on customers.customer_id = prior_stages.customer_id
    left join prior_rfm
        on customers.customer_id = prior_rfm.customer_id

    union all

    select
        customers.customer_id,
        'lifecycle_stage' as dimension,
        coalesce(prior_stages.lifecycle_stage, 'none') as from_value,
        lifecycle.lifecycle_stage as to_value,
        customers.net_revenue
    from customers
    inner join lifecycle
        on customers.customer_id = lifecycle.customer_id
    left join prior_stages
        on customers.customer_id = prior_stages.customer_id

),

cells as (

    select
        dimension,
        from_value,
        to_value,
        count(*) as customers
    from moves
    group by 1, 2, 3

),

final as (

    select
        cells.dimension || '|' || cells.from_value || '|' || cells.to_value as segment_migration_id,
        comparison.comparison_date,
        comparison.as_of_date,
        cells.dimension,
        cells.from_value,
        cells.to_value,
        cells.from_value = cells.to_value as is_unchanged,
        cells.customers,
        cast(
            cells.customers * 1.0 / sum(cells.customers) over (partition by cells.dimension, cells.from_value)
            as double
        ) as share_of_from_value
    from cells
    cross join comparison

)

select * from final
