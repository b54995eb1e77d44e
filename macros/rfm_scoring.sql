{#- The RFM scoring, written once for int_customers_rfm_scored (as of the as-of date) and
    int_customers_rfm_scored_prior (as of the segment-migration comparison date). `buyers` is a
    relation (CTE name) of one row per buyer with customer_id, days_since_last_purchase,
    purchase_days and net_revenue; `segments` is the rfm_segments seed. Each score 1-5 is a quintile
    of the buyers, 1 + floor(5 x (rank - 1) / buyers), with the standard competition rank (ties
    share the lowest rank, so equal values always share a score). Fewer days since the last purchase
    rank higher. The RFM code is the three digits, e.g. 545; the segment comes from the seed. -#}
{% macro rfm_scored(buyers, segments) -%}
    select
        scored.customer_id,
        scored.days_since_last_purchase,
        scored.purchase_days,
        scored.net_revenue,
        scored.recency_score,
        scored.frequency_score,
        scored.monetary_score,
        cast(scored.recency_score as varchar)
        || cast(scored.frequency_score as varchar)
        || cast(scored.monetary_score as varchar) as rfm_code,
        {{ segments }}.rfm_segment
    from (
        select
            customer_id,
            days_since_last_purchase,
            purchase_days,
            net_revenue,
            cast(
                1 + floor(5.0 * (rank() over (order by days_since_last_purchase desc) - 1) / count(*) over ())
                as integer
            ) as recency_score,
            cast(
                1 + floor(5.0 * (rank() over (order by purchase_days asc) - 1) / count(*) over ())
                as integer
            ) as frequency_score,
            cast(
                1 + floor(5.0 * (rank() over (order by net_revenue asc) - 1) / count(*) over ())
                as integer
            ) as monetary_score
        from {{ buyers }}
    ) as scored
    left join {{ segments }}
        on
            scored.recency_score = {{ segments }}.recency_score
            and scored.frequency_score = {{ segments }}.frequency_score
            and scored.monetary_score = {{ segments }}.monetary_score
{%- endmacro %}
