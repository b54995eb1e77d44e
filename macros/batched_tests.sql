{#- The shared body of the batched generic tests (tests/generic/columns_*.sql,
    expressions_are_true.sql): one scan of `model` counting the failures of every assertion, then
    one row per failing assertion, named in column `label` ('column_name' or 'expression'), with
    its count in `failures`. `assertions` is a list of [name, count expression] pairs. The tests set
    fail_calc to the sum of `failures`, so dbt reports the same count as the one-assertion tests. -#}
{% macro batched_failures(model, label, assertions) -%}
{%- if not assertions -%}
    {{ exceptions.raise_compiler_error("a batched test needs at least one column or expression") }}
{%- endif -%}
with counts as (

    select
        {%- for assertion in assertions %}
        {{ assertion[1] }} as failures_{{ loop.index }}{{ ',' if not loop.last }}
        {%- endfor %}
    from {{ model }}

),

failing as (

    {%- for assertion in assertions %}
    select
        '{{ assertion[0] | replace("'", "''") }}' as {{ label }},
        coalesce(failures_{{ loop.index }}, 0) as failures
    from counts
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}

),

final as (

    select *
    from failing
    where failures > 0

)

select * from final
{%- endmacro %}

{#- The number of rows of the scanned model for which `condition` holds, as an aggregate. -#}
{% macro count_where(condition) -%}
sum(case when {{ condition }} then 1 else 0 end)
{%- endmacro %}
