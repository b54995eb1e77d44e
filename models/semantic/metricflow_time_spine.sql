{#- MetricFlow's daily time spine (declared with `time_spine:` in _semantic__models.yml): one row per
    day from 1990 to 2049, wider than any order history this warehouse is expected to hold, so every
    metric_time of the semantic layer joins to it. #}
with

days as (

    {{ dbt.date_spine('day', "cast('1990-01-01' as date)", "cast('2050-01-01' as date)") }}

),

final as (

    select cast(date_day as date) as date_day
    from days

)

select * from final
