{#- The warehouse's record of the dbt invocations that wrote it (on-run-end hook, see
    dbt_project.yml): one row per run/build/test/seed/snapshot, appended when the invocation ends.
    `lifecycle publish` publishes a warehouse only when its latest row is the full, clean `dbt build`
    whose run_results.json and validation report it reads (lifecycle/build_record.py reads it).
    Schema `meta`, outside `marts`: it is never copied to the serving file BI opens. -#}
{% macro record_build(results) -%}
    {%- if not execute -%}
        {{ return('') }}
    {%- endif -%}
    {%- set counts = {'success': 0, 'warn': 0, 'error': 0, 'fail': 0, 'skipped': 0, 'other': 0} -%}
    {%- set kinds = {'success': 'success', 'pass': 'success', 'warn': 'warn', 'error': 'error',
                     'runtime error': 'error', 'fail': 'fail', 'skipped': 'skipped'} -%}
    {%- for result in results -%}
        {%- set kind = kinds.get(result.status | string | lower, 'other') -%}
        {%- do counts.update({kind: counts[kind] + 1}) -%}
    {%- endfor -%}
    {%- set as_of_date = _build_record_as_of_date() -%}
    create schema if not exists meta;
    create table if not exists meta.build_record (
        invocation_id varchar not null,
        command varchar not null,
        invocation_command varchar,
        dbt_vars varchar,
        target_path varchar,
        dbt_version varchar,
        started_at timestamp not null,
        finished_at timestamp not null,
        as_of_date date,
        selected_nodes integer not null,
        results_count integer not null,
        success_count integer not null,
        warn_count integer not null,
        error_count integer not null,
        fail_count integer not null,
        skipped_count integer not null,
        other_count integer not null
    );
    {#- Vars as given on the command line; a YAML date (as_of_date: 2025-12-31) is written as text. -#}
    {%- set given_vars = {} -%}
    {%- for name, value in (invocation_args_dict.get('vars') or {}).items() -%}
        {%- do given_vars.update({name: value if (value is string or value is number or value is boolean
            or value is none or value is mapping or (value is sequence and value is not string)) else value | string}) -%}
    {%- endfor %}
    insert into meta.build_record values (
        '{{ invocation_id }}',
        '{{ flags.WHICH }}',
        '{{ invocation_args_dict.get('invocation_command', '') | replace("'", "''") }}',
        '{{ tojson(given_vars, sort_keys=true) | replace("'", "''") }}',
        '{{ (invocation_args_dict.get('target_path') or flags.TARGET_PATH or '') | replace("'", "''") }}',
        '{{ dbt_version }}',
        cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}' as timestamp),
        cast(timezone('UTC', now()) as timestamp),
        {{ "cast('" ~ as_of_date ~ "' as date)" if as_of_date else 'null' }},
        {{ (selected_resources or []) | length }},
        {{ results | length }},
        {{ counts['success'] }},
        {{ counts['warn'] }},
        {{ counts['error'] }},
        {{ counts['fail'] }},
        {{ counts['skipped'] }},
        {{ counts['other'] }}
    )
{%- endmacro %}

{#- The as_of_date the warehouse holds: the one model that defines it (int_build_dates), when built. -#}
{% macro _build_record_as_of_date() -%}
    {%- set nodes = graph.nodes.values() | selectattr('resource_type', 'equalto', 'model')
        | selectattr('name', 'equalto', 'int_build_dates') | list -%}
    {%- if not nodes -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set relation = adapter.get_relation(nodes[0].database, nodes[0].schema, nodes[0].alias) -%}
    {%- if relation is none -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set rows = run_query('select max(as_of_date) from ' ~ relation) -%}
    {%- set value = rows.columns[0].values()[0] if rows and rows.rows | length else none -%}
    {{ return(value) }}
{%- endmacro %}
