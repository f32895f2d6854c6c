{{ config(materialized='table') }}

{#- A table, not a view: int_order_lines_allocated and this model's key tests each read it, and as
    a view each read computed its joins again (DECISIONLOG.md, "Intermediate joins read several
    times are tables"). -#}

{#-
    One row per order line (order_line_key) whose order is in stg_commerce__orders: lines of a
    quarantined order are dropped here (the order is in qrn_commerce__orders). Each line carries, still
    in the order currency, what fct_order_lines needs to price it and to allocate order-level money:
    its own refunds, and the order's discount and whole-order refunds to be shared out pro rata.
    A refund naming a line the order does not have (e.g. a quarantined line) joins the whole-order
    refunds, so no refunded money is lost.
-#}

with

stg_commerce__order_lines as (

    select * from {{ ref('stg_commerce__order_lines') }}

),

int_orders_enriched as (

    select * from {{ ref('int_orders_enriched') }}

),

stg_commerce__products as (

    select * from {{ ref('stg_commerce__products') }}

),

stg_commerce__refunds as (

    select * from {{ ref('stg_commerce__refunds') }}

),

refunds_matched as (

    select
        stg_commerce__refunds.order_id,
        stg_commerce__order_lines.order_line_id,
        stg_commerce__refunds.refund_local_amount
    from stg_commerce__refunds
    left join stg_commerce__order_lines
        on
            stg_commerce__refunds.order_id = stg_commerce__order_lines.order_id
            and stg_commerce__refunds.order_line_id = stg_commerce__order_lines.order_line_id

),

line_refunds as (

    select
        order_id,
        order_line_id,
        sum(refund_local_amount) as refund_local_amount
    from refunds_matched
    where order_line_id is not null
    group by order_id, order_line_id

),

order_refunds as (

    select
        order_id,
        sum(refund_local_amount) as refund_local_amount
    from refunds_matched
    where order_line_id is null
    group by order_id

),

final as (

    select
        order_lines.order_line_key,
        order_lines.order_id,
        order_lines.order_line_id,
        orders.customer_key,
        order_lines.product_id,
        products.product_category,
        orders.currency_code,
        order_lines.quantity,
        order_lines.unit_price_local_amount,
        order_lines.unit_cost_local_amount,
        coalesce(line_refunds.refund_local_amount, 0) as line_refund_local_amount,
        orders.discount_local_amount as order_discount_local_amount,
        coalesce(order_refunds.refund_local_amount, 0) as order_refund_local_amount,
        orders.order_units_per_usd,
        orders.reporting_units_per_usd,
        orders.is_cancelled,
        orders.ordered_at
    from stg_commerce__order_lines as order_lines
    inner join int_orders_enriched as orders
        on order_lines.order_id = orders.order_id
    left join stg_commerce__products as products
        on order_lines.product_id = products.product_id
    left join line_refunds
        on
            order_lines.order_id = line_refunds.order_id
            and order_lines.order_line_id = line_refunds.order_line_id
    left join order_refunds
        on order_lines.order_id = order_refunds.order_id

)

select * from final
