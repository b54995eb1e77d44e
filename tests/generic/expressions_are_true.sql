{#- expression_is_true for several boolean SQL expressions in one scan (a null counts as false).
    Returns one row per expression some rows fail (expression, failures = those rows); dbt counts
    the sum of failures. #}
{% test expressions_are_true(model, expressions) %}
{{ config(fail_calc='coalesce(sum(failures), 0)') }}

{%- set assertions = [] -%}
{%- for expression in expressions -%}
    {%- do assertions.append([expression, count_where('not coalesce(' ~ expression ~ ', false)')]) -%}
{%- endfor %}

{{ batched_failures(model, 'expression', assertions) }}

{% endtest %}
