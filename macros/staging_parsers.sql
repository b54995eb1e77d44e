{#- Parsers and checks shared by the staging models. Each returns a SQL expression. -#}

{#- A raw timestamp string to a UTC timestamp: ISO 8601 with or without an offset ('Z', '+01:00').
    Strings without an offset are taken as UTC (the profile pins the session time zone to UTC).
    Returns null when the string cannot be parsed; pair it with is_unparseable_timestamp. -#}
{% macro parse_timestamp_utc(column) -%}
    {{ return(adapter.dispatch('parse_timestamp_utc')(column)) }}
{%- endmacro %}

{% macro default__parse_timestamp_utc(column) -%}
    cast(nullif(trim({{ column }}), '') as {{ dbt.type_timestamp() }})
{%- endmacro %}

{% macro duckdb__parse_timestamp_utc(column) -%}
    timezone('UTC', try_cast(nullif(trim({{ column }}), '') as timestamptz))
{%- endmacro %}

{#- True when a timestamp string is present but does not parse. -#}
{% macro is_unparseable_timestamp(column) -%}
    ({{ column }} is not null and {{ parse_timestamp_utc(column) }} is null)
{%- endmacro %}

{#- A raw money string ('1,234.50', '$12.00', 'USD 45.10', '£ 7.99') to decimal(18, 2).
    Currency symbols, codes, spaces and thousands separators are stripped; '.' is the decimal
    separator. Empty or null means no amount (0 where the caller coalesces). Null if not a number. -#}
{% macro parse_money(column) -%}
    try_cast(
        nullif(regexp_replace(trim({{ column }}), '[^0-9.\-]', '', 'g'), '') as decimal(18, 2)
    )
{%- endmacro %}

{#- True when a money string is present and non-empty but is not a number. -#}
{% macro is_invalid_money(column) -%}
    (nullif(trim({{ column }}), '') is not null and {{ parse_money(column) }} is null)
{%- endmacro %}

{#- True when a money string is empty, null or not a number: an amount that must be given. -#}
{% macro is_missing_or_invalid_money(column) -%}
    ({{ parse_money(column) }} is null)
{%- endmacro %}

{#- The UTC date of a raw timestamp string (null when it does not parse), see parse_timestamp_utc. -#}
{% macro parse_date_utc(column) -%}
    cast({{ parse_timestamp_utc(column) }} as date)
{%- endmacro %}

{#- Emails are matched case- and whitespace-insensitively. -#}
{% macro normalise_email(column) -%}
    nullif(lower(trim({{ column }})), '')
{%- endmacro %}

{#- Free text (a name, a city): trimmed, empty means missing. -#}
{% macro clean_text(column) -%}
    nullif(trim({{ column }}), '')
{%- endmacro %}

{#- A business key (an id, a SKU): cleaned like text, see clean_text. -#}
{% macro clean_key(column) -%}
    {{ clean_text(column) }}
{%- endmacro %}

{#- A code (currency, country): trimmed and upper-cased. -#}
{% macro clean_code(column) -%}
    upper(trim({{ column }}))
{%- endmacro %}

{#- A label (category, channel, topic): trimmed and lower-cased; empty or null means `default`. -#}
{% macro clean_label(column, default) -%}
    coalesce(nullif(lower(trim({{ column }})), ''), '{{ default }}')
{%- endmacro %}

{#- Keep the latest load of each key; rows with a missing key are all kept (and quarantined). A
    qualify clause: it ends the select that keeps the rows (the final CTE of an event model). -#}
{% macro latest_load_per_key(key_columns, tie_breaker) -%}
    qualify
        {% for key in key_columns %}{{ key }} is null or {% endfor %}
        row_number() over (
            partition by {{ key_columns | join(', ') }}
            order by _loaded_at desc, {{ tie_breaker }}
        ) = 1
{%- endmacro %}

{#- Order statuses from any source system to completed / cancelled / returned. Anything else is
    kept lower-cased so the accepted_values test names it. -#}
{% macro normalise_order_status(column) -%}
    case
        when lower(trim({{ column }})) in ('completed', 'complete', 'shipped', 'delivered', 'paid')
            then 'completed'
        when lower(trim({{ column }})) in ('cancelled', 'canceled', 'voided', 'void')
            then 'cancelled'
        when lower(trim({{ column }})) in ('returned', 'refunded')
            then 'returned'
        else lower(trim({{ column }}))
    end
{%- endmacro %}

{#- The returned quantity of an order line, missing meaning none, clamped to 0..quantity: a credit
    line (negative quantity) has no returns. -#}
{% macro returned_quantity_capped(returned_quantity_column, quantity_column) -%}
    least(greatest(coalesce({{ returned_quantity_column }}, 0), 0), greatest({{ quantity_column }}, 0))
{%- endmacro %}

{#- True when a survey answer (a score, a rating) is missing or outside min_value..max_value. -#}
{% macro is_outside_scale(column, min_value, max_value) -%}
    ({{ column }} is null or {{ column }} not between {{ min_value }} and {{ max_value }})
{%- endmacro %}
