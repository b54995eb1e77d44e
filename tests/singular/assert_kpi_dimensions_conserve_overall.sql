{#- Conservation across every dimension of kpi_monthly: each customer has exactly one value per
    dimension, so per period the counts and sums over the values of preferred_channel, region and
    acquisition_channel equal the overall row. Also every period of the history has its overall
    row. Returns the periods, dimensions and measures that do not add up. #}
with

kpis as (

    select * from {{ ref('kpi_monthly') }}

),

history as (

    select * from {{ ref('customer_lifecycle_history') }}

),

measures as (

    {#- The additive columns, one row per measure (unpivoted). #}
    {% set measures = [
        'customers_at_period_start', 'retained_customers', 'churned_customers', 'active_customers',
        'new_customers', 'repeat_customers', 'reactivated_customers', 'purchase_orders', 'revenue',
        'cost_known_revenue', 'margin', 'nps_responses', 'nps_promoters', 'nps_detractors', 'reviews',
        'support_tickets'
    ] %}
    {%- for measure in measures %}
        select
            period_end_date,
            dimension,
            '{{ measure }}' as measure,
            cast({{ measure }} as decimal(38, 2)) as measure_value
        from kpis
        {% if not loop.last %}union all{% endif %}
    {%- endfor %}

),

overall as (

    select
        period_end_date,
        measure,
        measure_value as overall_value
    from measures
    where dimension = 'overall'

),

by_dimension as (

    select
        period_end_date,
        dimension,
        measure,
        sum(measure_value) as dimension_total
    from measures
    where dimension <> 'overall'
    group by 1, 2, 3

),

mismatches as (

    select
        by_dimension.period_end_date,
        by_dimension.dimension,
        by_dimension.measure,
        overall.overall_value,
        by_dimension.dimension_total
    from by_dimension
    left join overall
        on by_dimension.period_end_date = overall.period_end_date and by_dimension.measure = overall.measure
    where overall.overall_value is distinct from by_dimension.dimension_total

),

history_periods as (

    select distinct snapshot_date as period_end_date
    from history

),

missing_periods as (

    select
        history_periods.period_end_date,
        'overall' as dimension,
        'missing overall row' as measure,
        null as overall_value,
        null as dimension_total
    from history_periods
    left join overall
        on history_periods.period_end_date = overall.period_end_date and overall.measure = 'active_customers'
    where overall.period_end_date is null

),

breakdowns as (

    select 'preferred_channel' as dimension
    union all
    select 'region' as dimension
    union all
    select 'acquisition_channel' as dimension

),

expected_dimensions as (

    {#- Every period has rows for all three breakdowns. #}
    select
        overall.period_end_date,
        breakdowns.dimension
    from overall
    cross join breakdowns
    where overall.measure = 'active_customers'

),

missing_dimensions as (

    select
        expected_dimensions.period_end_date,
        expected_dimensions.dimension,
        'missing dimension rows' as measure,
        null as overall_value,
        null as dimension_total
    from expected_dimensions
    left join by_dimension
        on
            expected_dimensions.period_end_date = by_dimension.period_end_date
            and expected_dimensions.dimension = by_dimension.dimension
            and by_dimension.measure = 'active_customers'
    where by_dimension.period_end_date is null

)

select * from mismatches
union all
select * from missing_periods
union all
select * from missing_dimensions
