{#- The column is never null while `other_model` has a row where `other_condition` holds, e.g. every
    buyer has a p_alive whenever the CLV model was fitted (clv_model_parameters), and nulls are
    expected when it could not be. Combine with a `where` config to restrict the rows checked.
    Returns the rows with a null. #}
{% test not_null_when(model, column_name, other_model, other_condition) %}

select *
from {{ model }}
where
    {{ column_name }} is null
    and exists (
        select 1
        from {{ other_model }}
        where {{ other_condition }}
    )

{% endtest %}
