{#- No two rows share the same values in all of the given columns (a composite primary key).
    Nulls group together, as in SQL GROUP BY: restrict the rows with a `where` config when a key
    column may legitimately be null. Returns each repeated combination with its row count. #}
{% test unique_combination_of_columns(model, combination_of_columns) %}

select
    {% for column in combination_of_columns -%}
        {{ column }},
    {% endfor -%}
    count(*) as row_count
from {{ model }}
group by {% for column in combination_of_columns %}{{ column }}{% if not loop.last %}, {% endif %}{% endfor %}
having count(*) > 1

{% endtest %}
