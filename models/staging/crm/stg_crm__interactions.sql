with

base as (

    select * from {{ ref('base_crm__interactions') }}

),

final as (

    select
        interaction_id,
        crm_customer_id,
        case_id,
        touchpoint_id,
        interaction_channel,
        direction,
        purpose,
        occurred_at,
        _loaded_at,
        load_date

    from base
    where quarantine_reason is null

)

select * from final
