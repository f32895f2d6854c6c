with

base as (

    select * from {{ ref('base_commerce__orders') }}

),

final as (

    select
        order_id,
        shop_customer_id,
        order_channel,
        currency_code,
        order_status,
        discount_local_amount,
        shipping_local_amount,
        ordered_at,
        promised_delivery_at,
        delivered_at,
        _loaded_at,
        load_date

    from base
    where quarantine_reason is null

)

select * from final
