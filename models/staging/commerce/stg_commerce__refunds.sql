with

base as (

    select * from {{ ref('base_commerce__refunds') }}

),

final as (

    select
        refund_id,
        order_id,
        order_line_id,
        refund_reason,
        refund_local_amount,
        refunded_at,
        _loaded_at,
        load_date

    from base
    where quarantine_reason is null

)

select * from final
