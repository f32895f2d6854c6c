with

base as (

    select * from {{ ref('base_crm__interactions') }}

),

final as (

    select
        quarantine_reason,
        interaction_id,
        crm_customer_id,
        case_id,
        touchpoint_id,
        interaction_channel,
        direction,
        purpose,
        occurred_at_raw,
        _loaded_at,
        load_date

    from base
    where quarantine_reason is not null

)

select * from final
