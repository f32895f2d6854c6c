with

base as (

    select * from {{ ref('base_crm__customers') }}

),

final as (

    select
        quarantine_reason,
        crm_customer_id,
        referred_by_crm_customer_id,
        gender,
        city,
        country_code,
        segment,
        industry_vertical,
        acquisition_channel,
        created_at_raw,
        updated_at_raw,
        _loaded_at,
        load_date

    from base
    where quarantine_reason is not null

)

select * from final
