{#- Segment by stage: how do the RFM segments and the lifecycle stages of the same customers
    line up (e.g. how many Champions are already at risk, how many churned customers still score
    as Loyal)?

    One row per RFM segment and lifecycle stage that share a customer: the cells of the
    segment x stage cross-tab, as of as_of_date, with the share of the segment (a row of the
    cross-tab adds up to 1) and of the stage (a column adds up to 1). Segments come in their rank
    (seeds/rfm_segment_definitions.csv; Prospect last), stages in their precedence
    (seeds/lifecycle_stages.csv). Pivot lifecycle_stage into columns in a BI tool (or with
    DuckDB's `pivot`) for the square table.

    Its columns are documented in analyses/_analyses.yml. -#}

with

customer_segments as (

    select * from {{ ref('customer_segments') }}

),

customer_lifecycle as (

    select * from {{ ref('customer_lifecycle') }}

),

segment_definitions as (

    select * from {{ ref('rfm_segment_definitions') }}

),

lifecycle_stages as (

    select * from {{ ref('lifecycle_stages') }}

),

cells as (

    select
        customer_segments.rfm_segment,
        customer_lifecycle.lifecycle_stage,
        count(*) as customers
    from customer_segments
    inner join customer_lifecycle
        on customer_segments.customer_id = customer_lifecycle.customer_id
    group by customer_segments.rfm_segment, customer_lifecycle.lifecycle_stage

),

final as (

    select
        cells.rfm_segment,
        segment_definitions.segment_rank,
        cells.lifecycle_stage,
        lifecycle_stages.precedence as stage_precedence,
        cells.customers,
        cells.customers * 1.0 / sum(cells.customers) over (partition by cells.rfm_segment) as share_of_segment,
        cells.customers * 1.0 / sum(cells.customers) over (partition by cells.lifecycle_stage) as share_of_stage
    from cells
    left join segment_definitions
        on cells.rfm_segment = segment_definitions.rfm_segment
    left join lifecycle_stages
        on cells.lifecycle_stage = lifecycle_stages.lifecycle_stage

)

select * from final
order by coalesce(segment_rank, 99), stage_precedence
