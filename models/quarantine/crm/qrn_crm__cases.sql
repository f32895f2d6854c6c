with

base as (

    select * from {{ ref('base_crm__cases') }}

),

final as (

    select
        quarantine_reason,
        case_id,
        crm_customer_id,
        order_id,
        touchpoint_id,
        case_channel,
        case_category,
        case_priority,
        case_status,
        reopen_count,
        opened_at_raw,
        first_response_at_raw,
        closed_at_raw,
        _loaded_at,
        load_date

    from base
    where quarantine_reason is not null

)

select * from final
