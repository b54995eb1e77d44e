{#- Incremental staging: the one place the daily-run rules of the event-heavy staging models live
    (doc block staging_incremental in models/staging/shop/_shop__docs.md explains them to users).

    A model opts in with config(materialized='incremental') (unique_key _row_key and the
    delete+insert strategy are set for the staging folder in dbt_project.yml), reads its raw table
    through select_new_loads and ends with select_staged_rows. A full build stages every raw row;
    an incremental run stages the raw rows loaded at or after the table's latest _loaded_at (>=:
    a file landing with the same load time as the last run is not lost), deduplicated by the
    model's own latest_load_per_key, then deletes the table's rows whose _row_key the batch holds
    and inserts the batch. The result is exactly a full build's:
    - a keyed row: every raw copy of the key loaded at or after the cut is in the batch, so the
      batch's latest load is the full build's latest load, and it replaces the older one;
    - a keyless row (all kept): its _row_key is a hash of the whole staged row, _loaded_at
      included, so it only matches rows loaded at the cut, whose raw rows are all in the batch
      again: they are deleted and inserted once more, never doubled, never lost (exact duplicates
      share a _row_key and are deleted and re-inserted together). -#}

{#- The source CTE of an incremental staging model: every row of `source_relation` in a full
    build, the rows loaded at or after the table's latest _loaded_at in an incremental run (a
    literal, so Parquet row groups and files loaded earlier are skipped on their statistics). -#}
{% macro select_new_loads(source_relation) -%}
    select * from {{ source_relation }}
    {%- if is_incremental() and execute %}
        {%- do assert_staged_with_same_rules() -%}
        {%- set latest = run_query(
            "select cast(max(_loaded_at) as " ~ dbt.type_string() ~ ") from " ~ this
        ).columns[0].values()[0] -%}
        {%- if latest is not none %}
    where _loaded_at >= cast('{{ latest }}' as {{ dbt.type_timestamp() }})
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}

{#- The final select of an incremental staging model: every column of `relation` (the model's last
    CTE) plus _row_key (`key_column` when present, else a hash of the whole row) and the batch
    columns _batch_at and _batch_fingerprint. -#}
{% macro select_staged_rows(relation, key_column) -%}
    select
        {{ relation }}.*,
        coalesce(
            {{ dbt.concat(["'key:'", key_column]) }},
            {{ dbt.concat(["'row:'", staged_row_hash(relation)]) }}
        ) as _row_key,
        cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}' as {{ dbt.type_timestamp() }}) as _batch_at,
        '{{ staging_fingerprint() }}' as _batch_fingerprint
    from {{ relation }}
{%- endmacro %}

{#- A hash of every column of a row of `relation` (a CTE name), as a string. -#}
{% macro staged_row_hash(relation) -%}
    {{ return(adapter.dispatch('staged_row_hash')(relation)) }}
{%- endmacro %}

{% macro default__staged_row_hash(relation) -%}
    {{ exceptions.raise_compiler_error(
        "staged_row_hash has no implementation for adapter " ~ adapter.type()
        ~ ": hash the row's columns (cast to text, nulls marked) with dbt.hash"
    ) }}
{%- endmacro %}

{#- DuckDB: a table name used as a column is the whole row as a struct; its text names every field. -#}
{% macro duckdb__staged_row_hash(relation) -%}
    md5(cast({{ relation }} as varchar))
{%- endmacro %}

{#- What staging computes at insert time besides the model's SQL: the vars staging reads and the
    fx_rates seed, plus the model's own SQL. A hash of them is stored with every row, and an
    incremental run built with other ones stops (assert_staged_with_same_rules). Changes to the
    parser macros are not detected: they need `dbt build --full-refresh` (see staging_incremental). -#}
{% macro staging_fingerprint() -%}
    {%- if not execute -%}
        {{ return('') }}
    {%- endif -%}
    {%- set parts = [model.get('checksum', {}).get('checksum', '')] -%}
    {%- for name in ['reporting_currency', 'min_birth_year', 'test_account_email_patterns'] -%}
        {%- do parts.append(name ~ '=' ~ tojson(var(name))) -%}
    {%- endfor -%}
    {%- for node in graph.get('nodes', {}).values()
        if node.resource_type == 'seed' and node.name == 'fx_rates' -%}
        {%- do parts.append('fx_rates=' ~ node.checksum.checksum) -%}
    {%- endfor -%}
    {{ return(local_md5(parts | join('|'))) }}
{%- endmacro %}

{#- Stops an incremental run of a table staged with other rules, with the one-line fix. -#}
{% macro assert_staged_with_same_rules() -%}
    {%- set stored = run_query("select _batch_fingerprint from " ~ this ~ " limit 1").columns[0].values() -%}
    {%- if stored and stored[0] != staging_fingerprint() -%}
        {{ exceptions.raise_compiler_error(
            this ~ " was staged with another version of its SQL, of the vars staging reads or of"
            ~ " seeds/fx_rates.csv: run with --full-refresh"
        ) }}
    {%- endif -%}
{%- endmacro %}

{#- Tests of an incremental model check what this run wrote: its latest batch (a full build is one
    batch, so there they see every row). Tests that compare the table as a whole with something
    else see every row. Uniqueness of the key needs no whole-table check: delete+insert on
    _row_key replaces every staged key the batch holds (see staging_incremental). -#}
{% macro default__get_where_subquery(relation) -%}
    {%- set conditions = [] -%}
    {%- set where = config.get('where', '') -%}
    {%- if where -%}
        {%- do conditions.append('(' ~ where ~ ')') -%}
    {%- endif -%}
    {%- if is_latest_batch_tested(relation) -%}
        {%- do conditions.append('_batch_at = (select max(_batch_at) from ' ~ relation ~ ')') -%}
    {%- endif -%}
    {%- if conditions -%}
        {%- set filtered -%}
            (select * from {{ relation }} where {{ conditions | join(' and ') }}) dbt_subquery
        {%- endset -%}
        {{ return(filtered) }}
    {%- else -%}
        {{ return(relation) }}
    {%- endif -%}
{%- endmacro %}

{#- True when `relation` is an incremental model and the current test checks rows one batch at a
    time: every generic test. reconciles_with_source reads the whole table and restricts both of
    its sides itself (latest_batch_loaded_after). -#}
{% macro is_latest_batch_tested(relation) -%}
    {%- set whole_table_tests = ['reconciles_with_source'] -%}
    {%- if not execute or model.test_metadata is not defined or model.test_metadata.name in whole_table_tests -%}
        {{ return(false) }}
    {%- endif -%}
    {{ return(is_incremental_relation(relation)) }}
{%- endmacro %}

{#- True when `relation` is the table of an incremental model of this project. -#}
{% macro is_incremental_relation(relation) -%}
    {%- for node in graph.nodes.values()
        if node.resource_type == 'model' and node.config.materialized == 'incremental'
        and (node.alias or node.name) | lower == relation.identifier | lower
        and node.schema | lower == relation.schema | lower -%}
        {{ return(true) }}
    {%- endfor -%}
    {{ return(false) }}
{%- endmacro %}

{#- The latest batch of an incremental staging table, as a cut on _loaded_at: the latest load of
    the rows written by earlier batches, as a string (none when the table is one batch: a full
    build, or not an incremental model). The raw rows loaded after it are exactly those the latest
    batch was staged from, and the table's rows loaded after it are exactly that batch: the run
    re-read every raw row loaded at or after its cut (the table's latest load then), so no earlier
    batch keeps a row loaded at the cut, and every row of the batch was loaded at or after it. -#}
{% macro latest_batch_loaded_after(relation) -%}
    {%- if not execute or not is_incremental_relation(relation) -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set earlier -%}
        select cast(max(_loaded_at) as {{ dbt.type_string() }})
        from {{ relation }}
        where _batch_at < (select max(_batch_at) from {{ relation }})
    {%- endset -%}
    {{ return(run_query(earlier).columns[0].values()[0]) }}
{%- endmacro %}
