{#- Retention deep dive: how well does each acquisition cohort keep buying?

    For each cohort (the month of the customers' first purchase, macro cohort_month) it answers:
    how many customers it acquired, which share of them bought again 1, 3, 6 and 12 months after
    the cohort month, and what a customer of the cohort had been worth (cumulative net revenue per
    customer) by month 3 and month 12. A milestone the cohort has not reached by as_of_date is
    null; a milestone in the as-of month counts a part month (cohort_retention.is_partial_month).
    Start here, then cut cohort_retention by any other month or join acquisition_channel_value for
    the channel of each cohort.

    Its columns are documented in analyses/_analyses.yml. -#}

{%- set retention_months = [1, 3, 6, 12] -%}
{%- set revenue_months = [3, 12] -%}

with

cohort_retention as (

    select * from {{ ref('cohort_retention') }}

),

final as (

    select
        cohort_month,
        max(cohort_customers) as cohort_customers,
        max(months_since_first_purchase) as months_observed,
        {% for month in retention_months %}
            max(case when months_since_first_purchase = {{ month }} then retention_rate end)
                as retention_month_{{ month }},
        {% endfor %}
        {% for month in revenue_months %}
            max(case when months_since_first_purchase = {{ month }} then cumulative_revenue_per_customer end)
                as revenue_per_customer_month_{{ month }}{% if not loop.last %},{% endif %}
        {% endfor %}
    from cohort_retention
    group by cohort_month

)

select * from final
order by cohort_month
