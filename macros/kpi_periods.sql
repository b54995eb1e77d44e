{#- The KPI period a dated event belongs to: the period ending at its month end, or at the as-of
    date in the as-of month (kpi_monthly's periods are the history's snapshot dates). -#}
{% macro kpi_period_end_date(date_column, as_of_column) -%}
    case
        when cast({{ dbt.last_day(date_column, 'month') }} as date) < {{ as_of_column }}
            then cast({{ dbt.last_day(date_column, 'month') }} as date)
        else {{ as_of_column }}
    end
{%- endmacro %}
