with

base as (

    select * from {{ ref('base_commerce__refunds') }}

),

final as (

    select
        quarantine_reason,
        refund_id,
        order_id,
        order_line_id,
        refund_reason,
        refund_local_amount,
        refunded_at_raw,
        _loaded_at,
        load_date

    from base
    where quarantine_reason is not null

)

select * from final
