{#- The sum of the column over the model (after the test's `where` config) equals an aggregate
    expression over another relation, e.g. the cohort sizes add up to the number of buyers:
    compare_expression: "count(*)", compare_condition: "has_purchased". Both sides count 0 when
    empty. Returns one row with both totals when they differ. #}
{% test sum_equals(model, column_name, compare_model, compare_expression, compare_condition='true') %}

with

model_total as (

    select coalesce(sum({{ column_name }}), 0) as model_total
    from {{ model }}

),

compare_total as (

    select coalesce({{ compare_expression }}, 0) as compare_total
    from {{ compare_model }}
    where {{ compare_condition }}

)

select
    model_total.model_total,
    compare_total.compare_total
from model_total
cross join compare_total
where model_total.model_total <> compare_total.compare_total

{% endtest %}
