with

base as (

    select * from {{ ref('base_survey__invitations') }}

),

final as (

    select
        quarantine_reason,
        invitation_id,
        survey_id,
        crm_customer_id,
        order_id,
        invitation_channel,
        is_delivered,
        sent_at_raw,
        _loaded_at,
        load_date

    from base
    where quarantine_reason is not null

)

select * from final
