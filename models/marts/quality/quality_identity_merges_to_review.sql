{#-
    The data steward's worklist of customer merges to check: one row per customer_key whose identity
    merge looks doubtful (int_identity_merges_flagged), with why (review_reasons) and the counts behind
    it. Keys, reasons and counts only: no name, e-mail, phone or other personal data; the steward opens
    the records in the CRM by customer_key.
-#}

with

flagged as (

    select * from {{ ref('int_identity_merges_flagged') }}

),

final as (

    select
        customer_key,
        -- why the merge is on the list, comma-separated in this order
        concat_ws(
            ',',
            case when has_several_crm_records then 'several_crm_records' end,
            case when has_several_names then 'several_names' end,
            case when has_several_countries then 'several_countries' end,
            case when is_large_component then 'large_component' end,
            case when has_shared_phone then 'ambiguous_match_key' end
        ) as review_reasons,
        cast(has_several_crm_records as integer)
        + cast(has_several_names as integer)
        + cast(has_several_countries as integer)
        + cast(is_large_component as integer)
        + cast(has_shared_phone as integer) as n_review_reasons,
        cast(n_identities as bigint) as n_identities,
        cast(n_systems as bigint) as n_systems,
        cast(n_crm_records as bigint) as n_crm_records,
        cast(n_names as bigint) as n_names,
        cast(n_countries as bigint) as n_countries,
        cast(n_shared_phones as bigint) as n_ambiguous_match_keys,
        has_several_crm_records,
        has_several_names,
        has_several_countries,
        is_large_component,
        has_shared_phone as has_ambiguous_match_key
    from flagged

)

select * from final
