{#- Like dbt's relationships test, but the parent rows must also satisfy a condition: every
    non-null value of the column exists in `field` of `to` among the rows where `to_condition`
    holds (e.g. a marketing audience only holds customers with marketing consent). Returns the
    child rows without such a parent. #}
{% test relationships_where(model, column_name, to, field, to_condition) %}

with

child_rows as (

    select {{ column_name }} as child_key
    from {{ model }}
    where {{ column_name }} is not null

),

parent_rows as (

    select {{ field }} as parent_key
    from {{ to }}
    where {{ to_condition }}

)

select child_rows.child_key
from child_rows
left join parent_rows
    on child_rows.child_key = parent_rows.parent_key
where parent_rows.parent_key is null

{% endtest %}
