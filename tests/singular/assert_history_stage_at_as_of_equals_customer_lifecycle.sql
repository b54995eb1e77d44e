{#- One definition of the rules: the history's stage on the as-of date is customer_lifecycle's,
    for every customer, and every customer has exactly one as-of row. Returns the disagreements. #}
with

history as (

    select * from {{ ref('customer_lifecycle_history') }}
    where is_as_of_date

),

current_stage as (

    select * from {{ ref('customer_lifecycle') }}

)

select
    coalesce(current_stage.customer_id, history.customer_id) as customer_id,
    current_stage.lifecycle_stage as current_stage,
    history.lifecycle_stage as history_stage
from current_stage
full outer join history
    on current_stage.customer_id = history.customer_id
where history.lifecycle_stage is distinct from current_stage.lifecycle_stage
