{#-
    One row per order line, in the reporting currency, with the order's discount and whole-order
    refunds allocated to its lines to the cent: int_order_lines_allocated does the work (incremental by
    order); this mart publishes its business columns under the contract.
-#}

with

int_order_lines_allocated as (

    select * from {{ ref('int_order_lines_allocated') }}

),

final as (

    select
        order_line_key,
        order_id,
        order_line_id,
        customer_key,
        product_id,
        product_category,
        quantity,
        unit_price_amount,
        gross_amount,
        discount_amount,
        refund_amount,
        net_revenue_amount,
        cost_amount,
        gross_margin_amount,
        is_cancelled,
        ordered_date,
        ordered_at
    from int_order_lines_allocated

)

select * from final
