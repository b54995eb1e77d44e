{#- column_name >= other_column on every row where both are set; returns the violating rows. #}
{% test column_greater_or_equal(model, column_name, other_column) %}

select
    {{ column_name }} as left_value,
    {{ other_column }} as right_value
from {{ model }}
where {{ column_name }} < {{ other_column }}

{% endtest %}
