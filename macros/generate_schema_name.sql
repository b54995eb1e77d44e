{#- Land models in the schema named in dbt_project.yml (staging, intermediate, marts) rather than
    dbt's default "<target schema>_<custom schema>", so BI tools find the marts in `marts`. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
