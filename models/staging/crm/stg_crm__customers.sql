with

base as (

    select * from {{ ref('base_crm__customers') }}

),

final as (

    select
        crm_customer_id,
        referred_by_crm_customer_id,
        email,
        phone_e164,
        first_name,
        last_name,
        gender,
        city,
        country_code,
        segment,
        industry_vertical,
        acquisition_channel,
        birth_date,
        created_at,
        updated_at,
        _loaded_at,
        load_date

    from base
    where quarantine_reason is null

)

select * from final
