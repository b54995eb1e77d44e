{#- The latest value of a date column is at most max_days_old days before the as-of date (the data
    is recent relative to the build's as-of date, never current_date). Fails on an empty column. #}
{% test is_recent(model, column_name, max_days_old) %}

with

latest as (

    select max({{ column_name }}) as latest_value
    from {{ model }}

),

as_of as (

    select as_of_date from {{ ref('int_build_dates') }}

)

select
    latest.latest_value,
    as_of.as_of_date
from latest
cross join as_of
where
    latest.latest_value is null
    or {{ dbt.datediff('latest.latest_value', 'as_of.as_of_date', 'day') }} > {{ max_days_old }}

{% endtest %}
