{#- Every raw row that did not make it into the marts, with the raw table it came from, its key
    and a reason code (see the doc block quarantine_reasons). Row-level defects are found in
    staging; lines of missing or quarantined orders, orders of unknown customers and test-account
    activity are found in the intermediate layer. Duplicates are not here: staging keeps the latest
    load of each key, and the source reconciliation counts the copies it dropped. #}
{%- set staged = [
    ('stg_crm__customers', 'crm_customers', "customer_id || '|' || cast(updated_at as varchar)"),
    ('stg_crm__privacy_requests', 'privacy_requests', 'privacy_request_id'),
    ('stg_shop__orders', 'shop_orders', 'order_id'),
    ('stg_shop__order_lines', 'shop_order_lines', 'order_line_id'),
    ('stg_pos__transactions', 'pos_transactions', 'transaction_id'),
    ('stg_pos__transaction_lines', 'pos_transaction_lines', 'transaction_line_id'),
    ('stg_pos__store_visits', 'store_visits', 'store_visit_id'),
    ('stg_web__events', 'web_events', 'web_event_id'),
    ('stg_esp__email_events', 'email_events', 'email_event_id'),
    ('stg_helpdesk__support_tickets', 'support_tickets', 'support_ticket_id'),
    ('stg_feedback__product_reviews', 'product_reviews', 'product_review_id'),
    ('stg_feedback__nps_responses', 'nps_responses', 'nps_response_id'),
    ('stg_feedback__referrals', 'referrals', 'referral_id'),
    ('stg_marketing__channel_spends', 'marketing_spend', 'channel_spend_id'),
] -%}
with

{% for model, table, key in staged %}
    {{ table }} as (

        select
            '{{ table }}' as source_table,
            {{ key }} as record_key,
            quarantine_reason,
            'staging' as detected_in,
            _loaded_at
        from {{ ref(model) }}
        where quarantine_reason is not null

    ),

{% endfor %}
import_rejects as (

    {#- Rows the transaction importer could not use (stg_import__rejected_rows). #}
    select
        'import_rejects' as source_table,
        rejected_row_id as record_key,
        quarantine_reason,
        'import' as detected_in,
        _loaded_at
    from {{ ref('stg_import__rejected_rows') }}

),

excluded_orders as (

    select
        source_table,
        order_id as record_key,
        exclusion_reason as quarantine_reason,
        'intermediate' as detected_in,
        cast(null as timestamp) as _loaded_at
    from {{ ref('int_orders_unioned') }}
    where exclusion_reason is not null

),

excluded_lines as (

    select
        source_table,
        order_line_id as record_key,
        exclusion_reason as quarantine_reason,
        'intermediate' as detected_in,
        cast(null as timestamp) as _loaded_at
    from {{ ref('int_order_lines_unioned') }}
    where exclusion_reason is not null

),

unioned as (

    {% for model, table, key in staged %}
        select * from {{ table }}
        union all
    {% endfor %}
    select * from import_rejects
    union all
    select * from excluded_orders
    union all
    select * from excluded_lines

),

erased_records as (

    {#- An erasure removes the person from the quarantine log too: the key of a quarantined CRM
        row (customer_id|updated_at) of any record of an erased person is masked, whatever the
        request's quality (doc block identity_erasure). #}
    select identifier_value as source_customer_id
    from {{ ref('int_customers_erased') }}
    where identifier_type = {{ identifier_type('customer_id') }}

),

keyed as (

    {#- The CRM customer id in the key of a quarantined CRM row, as a column: the erasure join below
        is then a plain equi-join (a condition on the source table inside a left join's ON made
        it a nested loop over every quarantined row and every erased identifier). #}
    select
        *,
        case
            when source_table = 'crm_customers' then {{ dbt.split_part('record_key', "'|'", 1) }}
        end as crm_customer_id
    from unioned

),

masked as (

    select
        keyed.source_table,
        case when erased_records.source_customer_id is null then keyed.record_key end as record_key,
        keyed.quarantine_reason,
        keyed.detected_in,
        keyed._loaded_at
    from keyed
    left join erased_records
        on keyed.crm_customer_id = erased_records.source_customer_id

),

final as (

    select
        {#- Rows that share a key (or have none) are numbered in a fixed order; rows that tie on
            every column are identical, so a rebuild gives the same table. #}
        {{ dbt.concat([
            "source_table", "'|'", "coalesce(record_key, '')", "'|'",
            "cast(row_number() over (partition by source_table, record_key order by quarantine_reason, "
            ~ "detected_in, _loaded_at) as varchar)"
        ]) }} as quarantined_row_id,
        source_table,
        record_key,
        quarantine_reason,
        detected_in,
        _loaded_at
    from masked

)

select * from final
