with

source as (

    select * from {{ source('import', 'import_rejects') }}

),

renamed as (

    select
        {{ clean_key('reject_id') }} as rejected_row_id,
        source_file,
        line_number,
        lower(trim(reason)) as quarantine_reason,
        detail,
        _loaded_at
    from source

),

deduplicated as (

    {{ latest_load_per_key('renamed', ['rejected_row_id'], 'line_number') }}

),

final as (

    select * from deduplicated

)

select * from final
