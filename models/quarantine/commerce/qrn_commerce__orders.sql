with

base as (

    select * from {{ ref('base_commerce__orders') }}

),

final as (

    select
        quarantine_reason,
        order_id,
        shop_customer_id,
        order_channel,
        currency_code,
        order_status,
        discount_local_amount,
        shipping_local_amount,
        ordered_at_raw,
        promised_delivery_at_raw,
        delivered_at_raw,
        _loaded_at,
        load_date

    from base
    where quarantine_reason is not null

)

select * from final
