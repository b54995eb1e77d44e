{#- The Net Promoter category of a 0-10 score, written once: promoter at or above var
    promoter_min_score (9), detractor at or below var nps_detractor_max_score (6), passive between;
    null for a missing or out-of-range score. -#}
{% macro nps_category(score) -%}
    case
        when {{ is_invalid_nps_score(score) }} then null
        when {{ score }} >= {{ var('promoter_min_score') }} then 'promoter'
        when {{ score }} <= {{ var('nps_detractor_max_score') }} then 'detractor'
        else 'passive'
    end
{%- endmacro %}

{#- True when a Net Promoter score is missing or off its 0-10 scale (quarantined as invalid_score). -#}
{% macro is_invalid_nps_score(score) -%}
    {{ is_outside_scale(score, 0, 10) }}
{%- endmacro %}
