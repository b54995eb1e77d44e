{#- Money conversion into the reporting currency: the one place the rule lives (seeds/fx_rates.csv
    holds the rates, doc block staging_fx_rate_to_reporting explains them to users). -#}

{#- The reporting currency (var reporting_currency), trimmed and upper-cased; anything but three
    letters stops the build while dbt parses the project. -#}
{% macro reporting_currency() -%}
    {%- set code = var('reporting_currency') | string | trim | upper -%}
    {%- if not modules.re.fullmatch('[A-Z]{3}', code) -%}
        {{ exceptions.raise_compiler_error(
            "reporting_currency '" ~ var('reporting_currency') ~ "' is not a three-letter ISO 4217 code"
            ~ " (e.g. USD, EUR, BRL; the currencies with rates are listed in seeds/fx_rates.csv)"
        ) }}
    {%- endif -%}
    {{ return(code) }}
{%- endmacro %}

{#- True when a currency code looks like ISO 4217: three upper-case letters. -#}
{% macro is_iso_currency_code(column) -%}
    regexp_full_match({{ column }}, '[A-Z]{3}')
{%- endmacro %}

{#- Selects every row of `relation` (a CTE or relation name) plus fx_rate_to_reporting: the factor
    that converts an amount in currency `currency_column` on date `date_column` into the reporting
    currency. Rates are US dollars per unit by date in seeds/fx_rates.csv; the rate of a currency on
    date d is that of its latest row with valid_from <= d (none before its first valid_from), and
    the factor is rate(currency, d) / rate(reporting currency, d). Money already in the reporting
    currency gets 1 whatever the seed holds. Null (the caller quarantines unknown_currency) when
    the currency, or the reporting currency, has no rate on that date, or the date is null. -#}
{% macro select_with_fx_rate_to_reporting(relation, currency_column, date_column) -%}
    {%- set reporting = reporting_currency() -%}
    {%- set rate_intervals -%}
        (
            select
                currency_code,
                valid_from,
                coalesce(
                    lead(valid_from) over (partition by currency_code order by valid_from), date '9999-12-31'
                ) as valid_until,
                usd_per_unit
            from {{ ref('fx_rates') }}
        )
    {%- endset -%}
    select
        {{ relation }}.*,
        case
            when {{ relation }}.{{ currency_column }} = '{{ reporting }}' then cast(1 as decimal(28, 10))
            else cast(row_rate.usd_per_unit / reporting_rate.usd_per_unit as decimal(28, 10))
        end as fx_rate_to_reporting
    from {{ relation }}
    left join {{ rate_intervals }} as row_rate
        on
            {{ relation }}.{{ currency_column }} = row_rate.currency_code
            and {{ relation }}.{{ date_column }} >= row_rate.valid_from
            and {{ relation }}.{{ date_column }} < row_rate.valid_until
    left join (select * from {{ rate_intervals }} where currency_code = '{{ reporting }}') as reporting_rate
        on
            {{ relation }}.{{ date_column }} >= reporting_rate.valid_from
            and {{ relation }}.{{ date_column }} < reporting_rate.valid_until
{%- endmacro %}

{#- A raw money string (see parse_money) in the reporting currency, decimal(18, 2), for a row selected
    with select_with_fx_rate_to_reporting. An empty amount is 0 unless missing_as_zero is false
    (then null, like an amount that is not a number, and like any amount without a rate). -#}
{% macro money_in_reporting_currency(raw_column, missing_as_zero=true) -%}
    {%- set amount = parse_money(raw_column) -%}
    {%- if missing_as_zero -%}
        {%- set amount = 'coalesce(' ~ amount ~ ', 0)' -%}
    {%- endif -%}
    {{ in_reporting_currency(amount) }}
{%- endmacro %}

{#- An amount in local currency (decimal(18, 2)) in the reporting currency, decimal(18, 2): times
    `fx_rate` (a fx_rate_to_reporting column), rounded to the cent. The one conversion formula. The
    factor is narrowed to decimal(18, 10) for the product, losslessly (it has ten decimals, and no
    factor between two seeded currencies comes near 10^8; a larger one fails the cast loudly): the
    product of two 64-bit decimals rounds to the cent many times faster in DuckDB than one with the
    128-bit decimal(28, 10), with the same result. -#}
{% macro in_reporting_currency(amount, fx_rate='fx_rate_to_reporting') -%}
    cast({{ amount }} * cast({{ fx_rate }} as decimal(18, 10)) as decimal(18, 2))
{%- endmacro %}

{#- Post-hook of the fx_rates seed: a reporting_currency the seed does not know (a typo, or a
    currency nobody added) fails the build at once, before any model converts money with it. -#}
{% macro assert_reporting_currency_has_rate() -%}
    {%- if execute -%}
        {%- set reporting = reporting_currency() -%}
        {%- set found = run_query(
            "select count(*) from " ~ this ~ " where currency_code = '" ~ reporting ~ "'"
        ).columns[0].values()[0] -%}
        {%- if found == 0 -%}
            {{ exceptions.raise_compiler_error(
                "reporting_currency '" ~ reporting ~ "' has no rate in seeds/fx_rates.csv: add rows for it"
                ~ " (currency_code, valid_from, usd_per_unit) or set reporting_currency to a currency listed there"
            ) }}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}

{#- on-run-end: one warning naming every currency whose rows were quarantined as unknown_currency
    in the staging models this invocation built, with their counts per raw table. -#}
{% macro warn_unknown_currencies(results) -%}
    {%- if execute and flags.WHICH in ('build', 'run') -%}
        {%- set converting = {
            'stg_shop__orders': 'shop_orders',
            'stg_pos__transactions': 'pos_transactions',
            'stg_marketing__channel_spends': 'marketing_spend',
        } -%}
        {%- set parts = [] -%}
        {%- for result in results
            if result.node.resource_type == 'model' and result.node.name in converting
            and result.status == 'success' -%}
            {%- set node = result.node -%}
            {%- set relation = adapter.get_relation(node.database, node.schema, node.alias) -%}
            {%- if relation is not none -%}
                {%- set counts = run_query(
                    "select coalesce(nullif(currency_code, ''), '(blank)') as currency_code, count(*) as row_count"
                    ~ " from " ~ relation ~ " where quarantine_reason = 'unknown_currency'"
                    ~ " group by all order by row_count desc, currency_code"
                ) -%}
                {%- for row in counts.rows -%}
                    {%- do parts.append(
                        row[1] ~ " " ~ converting[node.name] ~ (" row" if row[1] == 1 else " rows") ~ " in " ~ row[0]
                    ) -%}
                {%- endfor -%}
            {%- endif -%}
        {%- endfor -%}
        {%- if parts -%}
            {%- do exceptions.warn(
                parts | join(", ") ~ " (no rate in seeds/fx_rates.csv into " ~ reporting_currency()
                ~ " on the row's date) quarantined as unknown_currency"
            ) -%}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}
