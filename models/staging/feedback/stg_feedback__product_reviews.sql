with

source as (

    select * from {{ source('feedback', 'product_reviews') }}

),

renamed as (

    select
        {{ clean_key('review_id') }} as product_review_id,
        {{ clean_key('customer_id') }} as customer_id,
        {{ clean_key('sku') }} as sku,
        rating,
        reviewed_at as reviewed_at_raw,
        {{ parse_timestamp_utc('reviewed_at') }} as reviewed_at,
        _loaded_at
    from source

),

deduplicated as (

    {{ latest_load_per_key('renamed', ['product_review_id'], 'reviewed_at_raw') }}

),

final as (

    select
        product_review_id,
        customer_id,
        sku,
        rating,
        reviewed_at,
        {{ event_quarantine_reason(
            'product_review_id', 'reviewed_at_raw', 'reviewed_at',
            value_checks=[('invalid_rating', is_outside_scale('rating', 1, 5))],
        ) }} as quarantine_reason,
        _loaded_at
    from deduplicated

)

select * from final
