{#- The model has exactly `expected` rows (e.g. 1 for a single-row parameter model). Returns one row
    with the actual and expected counts when they differ. #}
{% test has_row_count(model, expected) %}

select
    count(*) as actual_row_count,
    {{ expected }} as expected_row_count
from {{ model }}
having count(*) <> {{ expected }}

{% endtest %}
