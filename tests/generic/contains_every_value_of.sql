{#- Every value of `field` in `to` (where `to_condition` holds) occurs in the column: e.g. every
    named RFM segment of the segment seed has customers. The reverse of relationships. Returns
    each missing value. #}
{% test contains_every_value_of(model, column_name, to, field, to_condition='true') %}

with

expected as (

    select distinct {{ field }} as expected_value
    from {{ to }}
    where {{ to_condition }} and {{ field }} is not null

),

found as (

    select distinct {{ column_name }} as found_value
    from {{ model }}

)

select expected.expected_value as missing_value
from expected
left join found
    on expected.expected_value = found.found_value
where found.found_value is null

{% endtest %}
