{#-
    One row per order_id of stg_commerce__orders. Line money is the sum of fct_order_lines (so an order
    and its lines agree to the cent); an order without lines keeps its row with line money 0. Shipping
    is order-level money, converted here, and is not part of net revenue.
-#}

with

int_orders_enriched as (

    select * from {{ ref('int_orders_enriched') }}

),

fct_order_lines as (

    select * from {{ ref('fct_order_lines') }}

),

order_totals as (

    select
        order_id,
        count(*) as n_lines,
        sum(quantity) as n_items,
        sum(gross_amount) as gross_amount,
        sum(discount_amount) as discount_amount,
        sum(refund_amount) as refund_amount,
        sum(net_revenue_amount) as net_revenue_amount,
        -- unknown as soon as one line's cost (or margin) is unknown: never a partial sum
        case when count(cost_amount) = count(*) then sum(cost_amount) end as cost_amount,
        case
            when count(gross_margin_amount) = count(*) then sum(gross_margin_amount)
        end as gross_margin_amount
    from fct_order_lines
    group by order_id

),

joined as (

    select
        orders.*,
        coalesce(order_totals.n_lines, 0) as n_lines,
        coalesce(order_totals.n_items, 0) as n_items,
        coalesce(order_totals.gross_amount, 0) as gross_amount,
        coalesce(order_totals.discount_amount, 0) as discount_amount,
        coalesce(order_totals.refund_amount, 0) as refund_amount,
        coalesce(order_totals.net_revenue_amount, 0) as net_revenue_amount,
        case
            when order_totals.order_id is null then 0 else order_totals.cost_amount
        end as cost_amount,
        case
            when order_totals.order_id is null then 0 else order_totals.gross_margin_amount
        end as gross_margin_amount,
        {{ to_reporting_currency(
            'orders.shipping_local_amount', 'orders.order_units_per_usd',
            'orders.reporting_units_per_usd'
        ) }} as shipping_amount
    from int_orders_enriched as orders
    left join order_totals
        on orders.order_id = order_totals.order_id

),

numbered as (

    select
        *,
        row_number() over (
            partition by customer_key, is_cancelled
            order by ordered_at asc, order_id asc
        ) as customer_order_rank,
        {{ dbt.datediff('promised_delivery_at', 'delivered_at', 'second') }}
            as delivery_delay_seconds
    from joined

),

final as (

    select
        order_id,
        customer_key,
        shop_customer_id,
        order_channel,
        order_status,
        currency_code,
        -- the customer's n-th non-cancelled order; no number without a customer or when cancelled
        case
            when not is_cancelled and customer_key is not null
                then cast(customer_order_rank as integer)
        end as customer_order_number,
        cast(n_lines as integer) as n_lines,
        cast(n_items as bigint) as n_items,
        cast(gross_amount as decimal(18, 2)) as gross_amount,
        cast(discount_amount as decimal(18, 2)) as discount_amount,
        cast(refund_amount as decimal(18, 2)) as refund_amount,
        shipping_amount,
        cast(net_revenue_amount as decimal(18, 2)) as net_revenue_amount,
        cast(cost_amount as decimal(18, 2)) as cost_amount,
        cast(gross_margin_amount as decimal(18, 2)) as gross_margin_amount,
        {{ round_half_up('cast(delivery_delay_seconds as double) / 3600', 2) }}
            as delivery_delay_hours,
        is_cancelled,
        delivered_at is not null as is_delivered,
        delivered_at > promised_delivery_at as is_late_delivery,
        refund_amount <> 0 as has_refund,
        cast(ordered_at as date) as ordered_date,
        ordered_at,
        promised_delivery_at,
        delivered_at
    from numbered

)

select * from final
