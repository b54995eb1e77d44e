{#- No single value of the column holds more than max_share of the rows (e.g. no lifecycle stage
    holds more than 80 % of customers). Nulls count as a value. Returns each value above the share
    with its share. Passes on an empty model. #}
{% test value_share_at_most(model, column_name, max_share) %}

with

counted as (

    select
        {{ column_name }} as value_found,
        count(*) as value_rows,
        sum(count(*)) over () as total_rows
    from {{ model }}
    group by 1

)

select
    value_found,
    value_rows,
    value_rows * 1.0 / total_rows as observed_share
from counted
where value_rows * 1.0 / total_rows > {{ max_share }}

{% endtest %}
