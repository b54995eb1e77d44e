{#- The column's distinct non-null values are exactly the given set: no value outside it, and no
    value of the set missing (a segment cannot silently vanish). Returns each difference. #}
{% test distinct_values_equal_set(model, column_name, values, quote=true) %}

with

actual as (

    select distinct cast({{ column_name }} as {{ dbt.type_string() }}) as value_found
    from {{ model }}
    where {{ column_name }} is not null

),

expected as (

    {% for value in values %}
    select cast({% if quote %}'{{ value }}'{% else %}{{ value }}{% endif %} as {{ dbt.type_string() }}) as value_found
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

)

select
    coalesce(actual.value_found, expected.value_found) as value_found,
    case when actual.value_found is null then 'missing' else 'unexpected' end as problem
from actual
full outer join expected
    on actual.value_found = expected.value_found
where actual.value_found is null or expected.value_found is null

{% endtest %}
