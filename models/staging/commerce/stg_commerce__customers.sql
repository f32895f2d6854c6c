with

base as (

    select * from {{ ref('base_commerce__customers') }}

),

final as (

    select
        shop_customer_id,
        email,
        phone_e164,
        created_at,
        _loaded_at,
        load_date

    from base
    where quarantine_reason is null

)

select * from final
