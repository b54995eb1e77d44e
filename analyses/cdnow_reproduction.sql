{#- CDNOW reproduction: does this warehouse's CLV fit reproduce the published BG/NBD,
    Pareto/NBD and Gamma-Gamma estimates on the CDNOW sample?

    Load the CDNOW sample (2,357 customers, shipped with the `lifetimes` package as
    lifetimes/datasets/CDNOW_sample.txt: customer id, -, date yyyymmdd, -, amount) into a raw
    landing with the importer, and build it as of the end of the calibration period:

        lifecycle import-transactions CDNOW_sample.txt --no-header --delimiter whitespace \
            --customer-col col1 --date-col col3 --date-format '%Y%m%d' --amount-col col5 \
            --loaded-at 1998-07-01T02:00:00 --out data/cdnow
        LIFECYCLE_RAW_DIR=data/cdnow LIFECYCLE_DB=warehouse/cdnow.duckdb \
            lifecycle dbt build --vars '{as_of_date: 1997-09-30}'

    (tests/python/test_cdnow_reproduction.py does the same and asserts the figures.) Then compile
    and run this analysis against that warehouse. One row per parameter: the fitted value in the
    published unit (weeks: alpha / 7; the log-likelihood plus ln 7 per repeat purchase), the
    published value (Fader, Hardie & Lee 2005; Fader & Hardie 2013) and the relative difference.
    On any other warehouse it shows that warehouse's fit next to the CDNOW figures; the fitted
    values are null when the model was not fitted (model_status).

    Its columns are documented in analyses/_analyses.yml. -#}

{#- (model, row of clv_model_parameters, parameter, expression, published value) -#}
{%- set parameters = [
    ('bgnbd', 'bg_nbd', 'r', 'fit.r', 0.2426),
    ('bgnbd', 'bg_nbd', 'alpha', 'fit.alpha / 7.0', 4.4136),
    ('bgnbd', 'bg_nbd', 'a', 'fit.a', 0.7929),
    ('bgnbd', 'bg_nbd', 'b', 'fit.b', 2.4259),
    ('bgnbd', 'bg_nbd', 'log_likelihood', 'fit.purchase_model_log_likelihood + repeats.repeat_purchases * ln(7.0)', -9582.43),
    ('pareto_nbd', 'pareto_nbd', 'r', 'fit.r', 0.5533),
    ('pareto_nbd', 'pareto_nbd', 'alpha', 'fit.alpha / 7.0', 10.58),
    ('pareto_nbd', 'pareto_nbd', 's', 'fit.s', 0.6062),
    ('pareto_nbd', 'pareto_nbd', 'beta', 'fit.beta / 7.0', 11.67),
    ('gamma_gamma', 'bg_nbd', 'p', 'fit.p', 6.2496),
    ('gamma_gamma', 'bg_nbd', 'q', 'fit.q', 3.7442),
    ('gamma_gamma', 'bg_nbd', 'gamma', 'fit.gamma', 15.4435),
] -%}

with

clv_model_parameters as (

    select * from {{ ref('clv_model_parameters') }}

),

customer_clv as (

    select * from {{ ref('customer_clv') }}

),

repeats as (

    {#- The BG/NBD likelihood is a density in the time unit: each repeat purchase day adds ln 7
        when the unit goes from days to weeks. #}
    select sum(frequency) as repeat_purchases
    from customer_clv

),

fitted as (

    {% for clv_model, purchase_model, parameter, expression, published in parameters %}
        select
            '{{ clv_model }}' as clv_model,
            '{{ parameter }}' as parameter,
            cast({{ expression }} as double) as fitted_value,
            cast({{ published }} as double) as published_value,
            fit.model_status
        from clv_model_parameters as fit
        cross join repeats
        where fit.purchase_model = '{{ purchase_model }}'
        {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

final as (

    select
        clv_model,
        parameter,
        fitted_value,
        published_value,
        (fitted_value - published_value) / abs(published_value) as relative_difference,
        model_status
    from fitted

)

select * from final
order by clv_model, parameter
