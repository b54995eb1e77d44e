{#- The trailing windows (days) customer revenue and purchase days are summarised over
    (int_customer_orders_summarised, int_customer_purchases_summarised). -#}
{% macro revenue_windows_days() -%}
    {{ return([30, 90, 180, 365]) }}
{%- endmacro %}
