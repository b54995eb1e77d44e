{#- Identity lookups (doc blocks identity_resolution and identity_erasure in
    models/intermediate/identity/_identity__docs.md). -#}

{#- The kinds of identifier a channel names a customer by, each with the channel columns that carry
    it: the one list of identifier types. identifier_type(name) returns the SQL literal of one and
    fails the compile on a name not in the list. -#}
{% macro identifier_types() -%}
    {{ return({
        'customer_id': 'a CRM customer id: shop orders, email events, reviews, referrals, logged-in web events',
        'email': 'a normalised email: support tickets, NPS answers',
        'loyalty_card': 'a loyalty card number: store transactions and store visits',
        'anonymous_id': "the web / app tracker's device id, stitched at the device's first login",
    }) }}
{%- endmacro %}

{% macro identifier_type(name) -%}
    {%- if name not in identifier_types() -%}
        {{ exceptions.raise_compiler_error(
            "unknown identifier type '" ~ name ~ "' (macros/identity.sql: " ~ identifier_types().keys() | join(', ') ~ ")"
        ) }}
    {%- endif -%}
    '{{ name }}'
{%- endmacro %}

{#- Joins the identity lookup (an import CTE of int_customer_identifiers_flagged, named `lookup`)
    as `alias` on the rows whose identifier of type `identifier_type` equals `column`. The joined
    alias gives customer_id (the resolved person) and is_customer_erased (the identifier is an
    erased person's: int_customers_erased). Left join unless join_type says otherwise. -#}
{% macro join_identity(alias, identifier_type_name, column, join_type='left', lookup='identifiers') -%}
    {{ join_type }} join {{ lookup }} as {{ alias }}
        on
            {{ alias }}.identifier_type = {{ identifier_type(identifier_type_name) }}
            and {{ column }} = {{ alias }}.identifier_value
{%- endmacro %}
