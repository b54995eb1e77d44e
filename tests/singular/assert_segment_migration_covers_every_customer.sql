{#- Every current customer is in exactly one cell of each dimension of segment_migration. #}
with

migration as (

    select * from {{ ref('segment_migration') }}

),

customer_count as (

    select count(*) as customers from {{ ref('customers') }}

)

select
    migration.dimension,
    sum(migration.customers) as migrated_customers,
    max(customer_count.customers) as customers
from migration
cross join customer_count
group by 1
having sum(migration.customers) <> max(customer_count.customers)
