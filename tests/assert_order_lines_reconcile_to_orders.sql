{#-
    Every order's money in fct_orders equals the sum of its lines in fct_order_lines, to the cent
    (gross, discount, refund, net revenue, cost and margin; null cost/margin when any line's is null).
    Returns the orders that disagree.
-#}

with

fct_orders as (

    select * from {{ ref('fct_orders') }}

),

fct_order_lines as (

    select * from {{ ref('fct_order_lines') }}

),

line_totals as (

    select
        order_id,
        count(*) as n_lines,
        sum(gross_amount) as gross_amount,
        sum(discount_amount) as discount_amount,
        sum(refund_amount) as refund_amount,
        sum(net_revenue_amount) as net_revenue_amount,
        case when count(cost_amount) = count(*) then sum(cost_amount) end as cost_amount,
        case
            when count(gross_margin_amount) = count(*) then sum(gross_margin_amount)
        end as gross_margin_amount
    from fct_order_lines
    group by order_id

),

compared as (

    select
        coalesce(fct_orders.order_id, line_totals.order_id) as order_id,
        fct_orders.net_revenue_amount as order_net_revenue_amount,
        line_totals.net_revenue_amount as lines_net_revenue_amount,
        fct_orders.order_id is null as is_missing_order,
        coalesce(line_totals.n_lines, 0) <> fct_orders.n_lines as is_line_count_off,
        coalesce(line_totals.gross_amount, 0) <> fct_orders.gross_amount as is_gross_off,
        coalesce(line_totals.discount_amount, 0) <> fct_orders.discount_amount as is_discount_off,
        coalesce(line_totals.refund_amount, 0) <> fct_orders.refund_amount as is_refund_off,
        coalesce(line_totals.net_revenue_amount, 0) <> fct_orders.net_revenue_amount
            as is_net_revenue_off,
        -- null-safe: differ, or exactly one of the two is null (unknown cost must stay unknown)
        line_totals.order_id is not null
        and (
            line_totals.cost_amount <> fct_orders.cost_amount
            or (line_totals.cost_amount is null) <> (fct_orders.cost_amount is null)
        ) as is_cost_off,
        line_totals.order_id is not null
        and (
            line_totals.gross_margin_amount <> fct_orders.gross_margin_amount
            or (line_totals.gross_margin_amount is null)
            <> (fct_orders.gross_margin_amount is null)
        ) as is_margin_off
    from fct_orders
    full outer join line_totals
        on fct_orders.order_id = line_totals.order_id

)

select * from compared
where
    is_missing_order
    or is_line_count_off
    or is_gross_off
    or is_discount_off
    or is_refund_off
    or is_net_revenue_off
    or is_cost_off
    or is_margin_off
