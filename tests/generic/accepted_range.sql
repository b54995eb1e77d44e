{#- Every non-null value of the column lies within [min_value, max_value] (either bound optional;
    inclusive: false makes both bounds strict). Nulls pass: pair with not_null where needed.
    Returns the rows outside the range. #}
{% test accepted_range(model, column_name, min_value=none, max_value=none, inclusive=true) %}

{%- if min_value is none and max_value is none -%}
    {{ exceptions.raise_compiler_error("accepted_range needs min_value, max_value or both") }}
{%- endif %}

select *
from {{ model }}
where
    {{ column_name }} is not null
    and (
        false
        {%- if min_value is not none %}
        or not ({{ column_name }} {{ '>=' if inclusive else '>' }} {{ min_value }})
        {%- endif %}
        {%- if max_value is not none %}
        or not ({{ column_name }} {{ '<=' if inclusive else '<' }} {{ max_value }})
        {%- endif %}
    )

{% endtest %}
