with

source as (

    select * from {{ source('crm', 'crm_customers') }}

),

renamed as (

    select
        {{ clean_key('customer_id') }} as customer_id,
        {{ normalise_email('email') }} as email_normalised,
        {{ clean_text('first_name') }} as first_name,
        {{ clean_text('last_name') }} as last_name,
        {{ clean_key('loyalty_card_number') }} as loyalty_card_number,
        birth_year,
        case {{ clean_code('gender') }}
            when 'F' then 'female'
            when 'FEMALE' then 'female'
            when 'M' then 'male'
            when 'MALE' then 'male'
            when 'X' then 'other'
            else 'unknown'
        end as gender,
        {{ clean_code('country_code') }} as country_code,
        {{ clean_text('region') }} as region,
        {{ clean_text('city') }} as city,
        {{ parse_timestamp_utc('signup_at') }} as signed_up_at,
        {{ clean_label('acquisition_channel', 'unknown') }} as acquisition_channel,
        coalesce(marketing_consent, false) as has_marketing_consent,
        {{ clean_key('updated_at') }} as updated_at_raw,
        {{ parse_timestamp_utc('updated_at') }} as updated_at,
        signup_at as signup_at_raw,
        _loaded_at
    from source

),

deduplicated as (

    {{ latest_load_per_key('renamed', ['customer_id', 'updated_at_raw'], 'email_normalised') }}

),

final as (

    select
        customer_id,
        updated_at,
        email_normalised,
        first_name,
        last_name,
        loyalty_card_number,
        case
            when birth_year between {{ var('min_birth_year') }} and extract(year from _loaded_at)
                then birth_year
        end as birth_year,
        gender,
        country_code,
        region,
        city,
        signed_up_at,
        acquisition_channel,
        has_marketing_consent,
        (
            lower(coalesce(first_name, '')) = 'test'
            {% for pattern in var('test_account_email_patterns') -%}
                or email_normalised like '{{ pattern }}'
            {% endfor -%}
        ) as is_test_account,
        {{ first_failed_check([
            missing_key_check(['customer_id', 'updated_at_raw']),
            (
                'unparseable_timestamp',
                is_unparseable_timestamp('updated_at_raw') ~ ' or ' ~ is_unparseable_timestamp('signup_at_raw')
            ),
            ('future_timestamp', 'updated_at > _loaded_at'),
        ]) }} as quarantine_reason,
        _loaded_at
    from deduplicated

)

select * from final
