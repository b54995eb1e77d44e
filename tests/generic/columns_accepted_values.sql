{#- accepted_values on several columns in one scan: `columns` maps each column to its
    {values, quote} (dbt's accepted_values semantics: each value written inside single quotes
    unless quote: false, nulls pass, the failures are the distinct values outside the list).
    Returns one row per column with such values (column_name, failures = how many distinct
    values); dbt counts the sum of failures. #}
{% test columns_accepted_values(model, columns) %}
{{ config(fail_calc='coalesce(sum(failures), 0)') }}

{%- set assertions = [] -%}
{%- for column, accepted in columns.items() -%}
    {%- set quote = accepted.get('quote', true) -%}
    {%- set listed = [] -%}
    {%- for value in accepted['values'] -%}
        {%- do listed.append("'" ~ value ~ "'" if quote else value | string) -%}
    {%- endfor -%}
    {%- set outside = 'case when ' ~ column ~ ' not in (' ~ listed | join(', ') ~ ') then ' ~ column ~ ' end' -%}
    {%- do assertions.append([column, 'count(distinct ' ~ outside ~ ')']) -%}
{%- endfor %}

{{ batched_failures(model, 'column_name', assertions) }}

{% endtest %}
