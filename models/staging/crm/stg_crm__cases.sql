with

base as (

    select * from {{ ref('base_crm__cases') }}

),

final as (

    select
        case_id,
        crm_customer_id,
        order_id,
        touchpoint_id,
        case_channel,
        case_category,
        case_priority,
        case_status,
        reopen_count,
        opened_at,
        first_response_at,
        closed_at,
        _loaded_at,
        load_date

    from base
    where quarantine_reason is null

)

select * from final
