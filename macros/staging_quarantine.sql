{#- The quarantine_reason of the staging models: each row gets the reason of the first check it
    fails, in the order given; null when it passes them all. The reasons are listed and explained
    in seeds/quarantine_reasons.csv. Each returns a SQL expression. -#}

{#- `checks`: a list of (reason, condition) pairs, the first true condition names the reason. -#}
{% macro first_failed_check(checks) -%}
    case
        {%- for reason, condition in checks %}
            when {{ condition }} then '{{ reason }}'
        {%- endfor %}
    end
{%- endmacro %}

{#- The check of the business key: missing when any of `key_columns` (cleaned) is null. -#}
{% macro missing_key_check(key_columns) -%}
    {%- set keys = [key_columns] if key_columns is string else key_columns -%}
    {{ return(('missing_key', '(' ~ (keys | join(' is null or ')) ~ ' is null)')) }}
{%- endmacro %}

{#- The check of money converted with select_with_fx_rate_to_reporting: no rate on the row's date. -#}
{% macro unknown_currency_check() -%}
    {{ return(('unknown_currency', 'fx_rate_to_reporting is null')) }}
{%- endmacro %}

{#- An event: a key; then `value_checks` (a survey answer on its scale); then a timestamp that is
    given and parses, not after its load; then `later_checks` (money, see order_quarantine_reason). -#}
{% macro event_quarantine_reason(
    key_columns, raw_timestamp_column, timestamp_column, value_checks=[], later_checks=[]
) -%}
    {{ first_failed_check([missing_key_check(key_columns)] + value_checks + [
        (
            'unparseable_timestamp',
            raw_timestamp_column ~ ' is null or ' ~ is_unparseable_timestamp(raw_timestamp_column)
        ),
        ('future_timestamp', timestamp_column ~ ' > _loaded_at'),
    ] + later_checks) }}
{%- endmacro %}

{#- An order or transaction header: the event checks, then a rate for its currency, then money
    fields that are empty (no amount) or numbers. -#}
{% macro order_quarantine_reason(key_column, raw_timestamp_column, timestamp_column, raw_money_columns) -%}
    {%- set invalid_money = [] -%}
    {%- for column in raw_money_columns -%}
        {%- do invalid_money.append(is_invalid_money(column)) -%}
    {%- endfor -%}
    {{ event_quarantine_reason(key_column, raw_timestamp_column, timestamp_column, later_checks=[
        unknown_currency_check(),
        ('invalid_amount', invalid_money | join(' or ')),
    ]) }}
{%- endmacro %}

{#- An order line: its keys, a non-zero quantity (negative is a credit line), a unit price that is
    given and a number. -#}
{% macro order_line_quarantine_reason(key_columns, quantity_column, raw_unit_price_column) -%}
    {{ first_failed_check([
        missing_key_check(key_columns),
        ('invalid_quantity', quantity_column ~ ' is null or ' ~ quantity_column ~ ' = 0'),
        ('invalid_amount', is_missing_or_invalid_money(raw_unit_price_column)),
    ]) }}
{%- endmacro %}
