{#- A staging model keeps every raw row except the duplicate copies of a key it drops:

        staged rows = raw rows - (rows with a complete key - distinct complete keys)

    A key is complete when every key column is non-null and non-empty after trimming; rows with an
    incomplete key are all kept (quarantined as missing_key), so they are never duplicates. This
    mirrors the staging dedup macro latest_load_per_key. key_expressions optionally overrides the
    expression for a key column (a SQL expression over the raw table) where the model normalises
    that column differently before deduplicating, so the test keys exactly as the model does.

    On an incremental model after an incremental run, both sides are the latest batch: the raw rows
    it was staged from and the rows it wrote (latest_batch_loaded_after); a full build compares
    every row, so it also sees raw rows that went missing.

    Returns one row (raw_rows, complete_key_rows, distinct_keys, duplicate_rows, expected_rows,
    staged_rows) when the counts do not reconcile. #}
{% test reconciles_with_source(model, source_name, table_name, key_columns, key_expressions={}) %}

{%- set key_sql = [] -%}
{%- for key_column in key_columns -%}
    {%- if key_column in key_expressions -%}
        {%- do key_sql.append(key_expressions[key_column]) -%}
    {%- else -%}
        {%- do key_sql.append("nullif(trim(cast(" ~ key_column ~ " as " ~ dbt.type_string() ~ ")), '')") -%}
    {%- endif -%}
{%- endfor %}
{%- set loaded_after = latest_batch_loaded_after(model) -%}
{%- set batch_filter -%}
    {%- if loaded_after is not none %}
    where _loaded_at > cast('{{ loaded_after }}' as {{ dbt.type_timestamp() }})
    {%- endif -%}
{%- endset %}

with

raw_keys as (

    select
        {% for expression in key_sql -%}
            {{ expression }} as key_{{ loop.index }}{% if not loop.last %},{% endif %}
        {% endfor %}
    from {{ source(source_name, table_name) }}
    {{- batch_filter }}

),

complete_keys as (

    select *
    from raw_keys
    where
        {% for expression in key_sql -%}
            key_{{ loop.index }} is not null{% if not loop.last %} and {% endif %}
        {%- endfor %}

),

raw_counts as (

    select
        (select count(*) from raw_keys) as raw_rows,
        (select count(*) from complete_keys) as complete_key_rows,
        (select count(*) from (select distinct * from complete_keys) as distinct_complete_keys) as distinct_keys

),

staged_counts as (

    select count(*) as staged_rows
    from {{ model }}
    {{- batch_filter }}

),

reconciliation as (

    select
        raw_counts.raw_rows,
        raw_counts.complete_key_rows,
        raw_counts.distinct_keys,
        raw_counts.complete_key_rows - raw_counts.distinct_keys as duplicate_rows,
        raw_counts.raw_rows - (raw_counts.complete_key_rows - raw_counts.distinct_keys) as expected_rows,
        staged_counts.staged_rows
    from raw_counts
    cross join staged_counts

)

select *
from reconciliation
where staged_rows <> expected_rows

{% endtest %}
