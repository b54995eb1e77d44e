{#- Grouping by each breakdown on its own, and by none (the overall row): the grouping sets
    (keys), (keys, b1), (keys, b2), ... in one aggregation. Written as a cube over the breakdowns
    kept to the sets with at most one breakdown, because cube and grouping() are standard SQL that
    DuckDB, Postgres, Snowflake, BigQuery and Spark all run (and sqlfluff's DuckDB dialect cannot
    parse GROUPING SETS). In the select, `grouping(b) = 0` tells the rows grouped by breakdown b
    (macros breakdown_name and breakdown_value). -#}
{% macro group_by_each_breakdown(keys, breakdowns) -%}
    group by {{ keys | join(', ') }}, cube({{ breakdowns | join(', ') }})
    having
        {% for breakdown in breakdowns -%}
            grouping({{ breakdown }}){{ " + " if not loop.last }}
        {%- endfor %} >= {{ breakdowns | length - 1 }}
{%- endmacro %}

{#- The name of the breakdown a row of group_by_each_breakdown is grouped by, or overall_name. -#}
{% macro breakdown_name(breakdowns, overall_name) -%}
    case
        {%- for breakdown in breakdowns %}
        when grouping({{ breakdown }}) = 0 then '{{ breakdown }}'
        {%- endfor %}
        else '{{ overall_name }}'
    end
{%- endmacro %}

{#- The value of the breakdown a row of group_by_each_breakdown is grouped by, or overall_value. -#}
{% macro breakdown_value(breakdowns, overall_value) -%}
    case
        {%- for breakdown in breakdowns %}
        when grouping({{ breakdown }}) = 0 then {{ breakdown }}
        {%- endfor %}
        else '{{ overall_value }}'
    end
{%- endmacro %}
