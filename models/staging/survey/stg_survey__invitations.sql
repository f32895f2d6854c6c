with

base as (

    select * from {{ ref('base_survey__invitations') }}

),

final as (

    select
        invitation_id,
        survey_id,
        crm_customer_id,
        order_id,
        email,
        phone_e164,
        invitation_channel,
        is_delivered,
        sent_at,
        _loaded_at,
        load_date

    from base
    where quarantine_reason is null

)

select * from final
