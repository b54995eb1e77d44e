{#- accepted_range on several columns in one scan: `columns` maps each column to its
    {min_value, max_value, inclusive} (the semantics of tests/generic/accepted_range.sql: either
    bound optional, inclusive by default, nulls pass). Returns one row per column with values out
    of range (column_name, failures = those rows); dbt counts the sum of failures. #}
{% test columns_in_range(model, columns) %}
{{ config(fail_calc='coalesce(sum(failures), 0)') }}

{%- set assertions = [] -%}
{%- for column, bounds in columns.items() -%}
    {%- set min_value = bounds.get('min_value') -%}
    {%- set max_value = bounds.get('max_value') -%}
    {%- set inclusive = bounds.get('inclusive', true) -%}
    {%- if min_value is none and max_value is none -%}
        {{ exceptions.raise_compiler_error("columns_in_range: " ~ column ~ " needs min_value, max_value or both") }}
    {%- endif -%}
    {%- set outside = [] -%}
    {%- if min_value is not none -%}
        {%- do outside.append('not (' ~ column ~ (' >= ' if inclusive else ' > ') ~ min_value ~ ')') -%}
    {%- endif -%}
    {%- if max_value is not none -%}
        {%- do outside.append('not (' ~ column ~ (' <= ' if inclusive else ' < ') ~ max_value ~ ')') -%}
    {%- endif -%}
    {%- set condition = column ~ ' is not null and (' ~ outside | join(' or ') ~ ')' -%}
    {%- do assertions.append([column, count_where(condition)]) -%}
{%- endfor %}

{{ batched_failures(model, 'column_name', assertions) }}

{% endtest %}
