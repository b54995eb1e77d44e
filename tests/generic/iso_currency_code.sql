{#- Every non-null value of the column looks like an ISO 4217 currency code (three upper-case
    letters, macro is_iso_currency_code). Nulls pass: pair with not_null where needed. The codes
    themselves are listed only in seeds/fx_rates.csv. Returns the failing rows. #}
{% test iso_currency_code(model, column_name) %}

select *
from {{ model }}
where {{ column_name }} is not null and not {{ is_iso_currency_code(column_name) }}

{% endtest %}
