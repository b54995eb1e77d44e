{#- The lifecycle rules, written once. customer_lifecycle (as of one date) and
    customer_lifecycle_history (every month end) both call these macros, so the two can never
    disagree. Each macro returns a SQL expression over the column names it is given; every
    threshold is a dbt var (see _marts__docs.md, doc block marts_lifecycle_rules). -#}

{#- The customer's typical gap between purchase days, shrunk toward the population's. #}
{% macro lifecycle_typical_gap(median_gap_days, gap_count, population_gap_days) -%}
    (
        (coalesce({{ median_gap_days }}, 0) * {{ gap_count }}
            + {{ population_gap_days }} * {{ var('gap_prior_weight') }})
        / ({{ gap_count }} + {{ var('gap_prior_weight') }})
    )
{%- endmacro %}

{#- Days since the last purchase beyond which the customer is churned: a multiple of the typical
    gap, with a floor and a hard cap. #}
{% macro lifecycle_churn_threshold(typical_gap_days) -%}
    least(
        greatest({{ var('churn_gap_multiple') }} * {{ typical_gap_days }}, {{ var('churn_floor_days') }}),
        {{ var('churn_cap_days') }}
    )
{%- endmacro %}

{#- Days since the last purchase beyond which the customer is at risk: a smaller multiple, with a
    floor, never beyond the churn threshold. #}
{% macro lifecycle_at_risk_threshold(typical_gap_days, churn_threshold_days) -%}
    least(
        greatest({{ var('at_risk_gap_multiple') }} * {{ typical_gap_days }}, {{ var('at_risk_floor_days') }}),
        {{ churn_threshold_days }}
    )
{%- endmacro %}

{#- The flags behind the stage, as boolean expressions. -#}
{#- Churned: silent beyond the churn threshold, unless the purchase model still finds the customer
    more likely alive than not (p_alive at least the var churned_max_p_alive): then the long
    silence makes them at risk, not churned, so a churned customer's p_alive always says so. Where
    p_alive is null (no purchase model, or BG/NBD's one-time buyers) cadence alone decides. #}
{% macro lifecycle_is_churned(days_since_last_purchase, churn_threshold_days, p_alive) -%}
    (
        coalesce({{ days_since_last_purchase }} > {{ churn_threshold_days }}, false)
        and not coalesce({{ p_alive }} >= {{ var('churned_max_p_alive') }}, false)
    )
{%- endmacro %}

{#- The p_alive at-risk rule: p_alive below the var at_risk_p_alive. Skipped (false) when p_alive
    is null, i.e. when the purchase model was not fitted: the stage then comes from cadence alone. #}
{% macro lifecycle_has_low_p_alive(p_alive) -%}
    coalesce({{ p_alive }} < {{ var('at_risk_p_alive') }}, false)
{%- endmacro %}

{% macro lifecycle_is_at_risk(days_since_last_purchase, at_risk_threshold_days, p_alive) -%}
    (
        coalesce({{ days_since_last_purchase }} > {{ at_risk_threshold_days }}, false)
        or {{ lifecycle_has_low_p_alive(p_alive) }}
    )
{%- endmacro %}

{% macro lifecycle_is_reactivated(reactivation_window_max_gap_days, churn_threshold_days) -%}
    coalesce({{ reactivation_window_max_gap_days }} > {{ churn_threshold_days }}, false)
{%- endmacro %}

{% macro lifecycle_is_new(days_since_first_purchase) -%}
    coalesce({{ days_since_first_purchase }} < {{ var('new_customer_days') }}, false)
{%- endmacro %}

{% macro lifecycle_is_loyal(purchase_days_last_365d) -%}
    coalesce({{ purchase_days_last_365d }} >= {{ var('loyal_min_purchase_days_365') }}, false)
{%- endmacro %}

{#- The stage from the flags, in the documented precedence:
    prospect > churned > at_risk > reactivated > new > advocate > loyal > active. #}
{% macro lifecycle_stage(has_purchased, is_churned, is_at_risk, is_reactivated, is_new, has_advocacy_signal, is_loyal) -%}
    case
        when not {{ has_purchased }} then 'prospect'
        when {{ is_churned }} then 'churned'
        when {{ is_at_risk }} then 'at_risk'
        when {{ is_reactivated }} then 'reactivated'
        when {{ is_new }} then 'new'
        when {{ has_advocacy_signal }} then 'advocate'
        when {{ is_loyal }} then 'loyal'
        else 'active'
    end
{%- endmacro %}
