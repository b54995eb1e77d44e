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

{#- Keep the latest load of each key of `relation` (a CTE name): the body of a CTE, every column of
    `relation`. Among several loads of a key the latest _loaded_at wins, then the smallest
    `tie_breaker`; rows with a missing key are all kept (and quarantined).
    Written to spill: only the keys that occur more than once (a few percent of the rows) go
    through a hash aggregate and a window; every other row streams through an anti join. One
    window over every raw row (what this was) needs memory in proportion to the table and ran out
    under a 2 GB limit on 31M web events, where this runs. -#}
{% macro latest_load_per_key(relation, key_columns, tie_breaker) -%}
    {%- set keys_present -%}
        {% for key in key_columns %}{{ key }} is not null{% if not loop.last %} and {% endif %}{% endfor %}
    {%- endset -%}
    {%- set same_key -%}
        {% for key in key_columns %}{{ relation }}.{{ key }} = repeated_keys.{{ key }}{% if not loop.last %} and {% endif %}{% endfor %}
    {%- endset -%}
    with

    repeated_keys as (

        select
            {{ key_columns | join(', ') }},
            max(_loaded_at) as latest_loaded_at
        from {{ relation }}
        where {{ keys_present }}
        group by {{ key_columns | join(', ') }}
        having count(*) > 1

    ),

    loaded_once as (

        select {{ relation }}.*
        from {{ relation }}
        left join repeated_keys
            on {{ same_key }}
        where repeated_keys.{{ key_columns[0] }} is null

    ),

    latest_loads as (

        select {{ relation }}.*
        from {{ relation }}
        inner join repeated_keys
            on {{ same_key }}
            and {{ relation }}._loaded_at is not distinct from repeated_keys.latest_loaded_at
        qualify row_number() over (
            partition by {% for key in key_columns %}{{ relation }}.{{ key }}{% if not loop.last %}, {% endif %}{% endfor %}
            order by {{ relation }}.{{ tie_breaker }}
        ) = 1

    )

    select * from loaded_once
    union all
    select * from latest_loads
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
