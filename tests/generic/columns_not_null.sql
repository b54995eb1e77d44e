{#- None of `columns` is null: not_null on each, in one scan. Returns one row per column with
    nulls (column_name, failures = its null rows); dbt counts the sum of failures. #}
{% test columns_not_null(model, columns) %}
{{ config(fail_calc='coalesce(sum(failures), 0)') }}

{%- set assertions = [] -%}
{%- for column in columns -%}
    {%- do assertions.append([column, count_where(column ~ ' is null')]) -%}
{%- endfor %}

{{ batched_failures(model, 'column_name', assertions) }}

{% endtest %}
