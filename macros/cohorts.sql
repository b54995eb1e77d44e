{#- A buyer's acquisition cohort, written once: the first day of the month of their first purchase
    (customers.first_purchase_date). cohort_retention and acquisition_channel_value both group
    buyers by it. -#}
{% macro cohort_month(first_purchase_date) -%}
    cast({{ dbt.date_trunc('month', first_purchase_date) }} as date)
{%- endmacro %}
