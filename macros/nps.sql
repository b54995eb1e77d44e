{#- The Net Promoter category of a 0-10 score, written once: promoter at or above var
    promoter_min_score (9), detractor at or below var nps_detractor_max_score (6), passive between;
    null for a missing or out-of-range score. -#}
{% macro nps_category(score) -%}
    case
        when {{ score }} is null or {{ score }} not between 0 and 10 then null
        when {{ score }} >= {{ var('promoter_min_score') }} then 'promoter'
        when {{ score }} <= {{ var('nps_detractor_max_score') }} then 'detractor'
        else 'passive'
    end
{%- endmacro %}
