with

base as (

    select * from {{ ref('base_commerce__customers') }}

),

final as (

    select
        quarantine_reason,
        shop_customer_id,
        email,
        phone,
        phone_e164,
        created_at_raw,
        _loaded_at,
        load_date

    from base
    where quarantine_reason is not null

)

select * from final
