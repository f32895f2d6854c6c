with

base as (

    select * from {{ ref('base_commerce__order_lines') }}

),

final as (

    select
        quarantine_reason,
        order_line_key,
        order_id,
        order_line_id,
        product_id,
        quantity,
        unit_price_local_amount,
        unit_cost_local_amount,
        _loaded_at,
        load_date

    from base
    where quarantine_reason is not null

)

select * from final
