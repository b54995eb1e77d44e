{#- The share of rows satisfying condition lies in [min_share, max_share]. Fails (one row with the
    observed share) otherwise, and on an empty model. #}
{% test proportion_within(model, condition, min_share=0, max_share=1) %}

with

counted as (

    select
        count(*) as total_rows,
        sum(case when {{ condition }} then 1 else 0 end) as matching_rows
    from {{ model }}

)

select
    total_rows,
    matching_rows,
    matching_rows * 1.0 / nullif(total_rows, 0) as observed_share
from counted
where
    total_rows = 0
    or matching_rows * 1.0 / total_rows < {{ min_share }}
    or matching_rows * 1.0 / total_rows > {{ max_share }}

{% endtest %}
