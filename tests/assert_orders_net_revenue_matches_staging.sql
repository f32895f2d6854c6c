{#-
    Total net revenue (and gross margin of the orders whose costs are all known) in fct_orders equals
    an independent recomputation straight from staging and the currency_rates seed, to the cent.
    Recomputed per order with no allocation at all: the converted line totals (quantity x unit price)
    less the converted order discount and the converted refunds (each line's refunds converted per
    line, the order's other refunds converted together); cancelled orders count 0; only orders with
    at least one line carry money; lines of quarantined orders do not count. Returns a row per total
    that disagrees.
-#}

with

stg_commerce__orders as (

    select * from {{ ref('stg_commerce__orders') }}

),

stg_commerce__order_lines as (

    select * from {{ ref('stg_commerce__order_lines') }}

),

stg_commerce__refunds as (

    select * from {{ ref('stg_commerce__refunds') }}

),

currency_rates as (

    select * from {{ ref('currency_rates') }}

),

fct_orders as (

    select * from {{ ref('fct_orders') }}

),

orders as (

    select
        stg_commerce__orders.order_id,
        stg_commerce__orders.order_status = 'cancelled' as is_cancelled,
        stg_commerce__orders.discount_local_amount,
        local_rates.units_per_usd as local_rate,
        reporting_rates.units_per_usd as reporting_rate
    from stg_commerce__orders
    left join currency_rates as local_rates
        on
            stg_commerce__orders.currency_code = local_rates.currency_code
            and cast(date_trunc('month', stg_commerce__orders.ordered_at) as date)
            = local_rates.rate_month
    left join currency_rates as reporting_rates
        on
            reporting_rates.currency_code = '{{ var("reporting_currency") }}'
            and cast(date_trunc('month', stg_commerce__orders.ordered_at) as date)
            = reporting_rates.rate_month

),

lines as (

    select
        orders.order_id,
        sum(
            {{ to_reporting_currency(
                'stg_commerce__order_lines.quantity'
                ~ ' * stg_commerce__order_lines.unit_price_local_amount',
                'orders.local_rate', 'orders.reporting_rate'
            ) }}
        ) as gross_amount,
        sum(
            {{ to_reporting_currency(
                'stg_commerce__order_lines.quantity'
                ~ ' * stg_commerce__order_lines.unit_cost_local_amount',
                'orders.local_rate', 'orders.reporting_rate'
            ) }}
        ) as cost_amount,
        count(*) = count(stg_commerce__order_lines.unit_cost_local_amount) as is_cost_known
    from stg_commerce__order_lines
    inner join orders
        on stg_commerce__order_lines.order_id = orders.order_id
    group by orders.order_id

),

refunds as (

    select
        stg_commerce__refunds.order_id,
        -- the refunded line, when the order has it; otherwise a refund of the whole order
        stg_commerce__order_lines.order_line_id,
        sum(stg_commerce__refunds.refund_local_amount) as refund_local_amount
    from stg_commerce__refunds
    left join stg_commerce__order_lines
        on
            stg_commerce__refunds.order_id = stg_commerce__order_lines.order_id
            and stg_commerce__refunds.order_line_id = stg_commerce__order_lines.order_line_id
    group by stg_commerce__refunds.order_id, stg_commerce__order_lines.order_line_id

),

order_refunds as (

    select
        orders.order_id,
        sum(
            {{ to_reporting_currency(
                'refunds.refund_local_amount', 'orders.local_rate', 'orders.reporting_rate'
            ) }}
        ) as refund_amount
    from refunds
    inner join orders
        on refunds.order_id = orders.order_id
    group by orders.order_id

),

recomputed_orders as (

    select
        orders.order_id,
        lines.is_cost_known,
        case
            when orders.is_cancelled then 0
            else lines.gross_amount
                - {{ to_reporting_currency(
                    'orders.discount_local_amount', 'orders.local_rate', 'orders.reporting_rate'
                ) }}
                - coalesce(order_refunds.refund_amount, 0)
        end as net_revenue_amount,
        case when orders.is_cancelled then 0 else lines.cost_amount end as cost_amount
    from orders
    inner join lines
        on orders.order_id = lines.order_id
    left join order_refunds
        on orders.order_id = order_refunds.order_id

),

totals as (

    select
        'net_revenue' as measure,
        sum(net_revenue_amount) as recomputed_amount
    from recomputed_orders

    union all

    select
        'gross_margin_of_costed_orders' as measure,
        sum(net_revenue_amount - cost_amount) as recomputed_amount
    from recomputed_orders
    where is_cost_known

),

mart_totals as (

    select
        'net_revenue' as measure,
        sum(net_revenue_amount) as mart_amount
    from fct_orders

    union all

    select
        'gross_margin_of_costed_orders' as measure,
        sum(gross_margin_amount) as mart_amount
    from fct_orders
    where gross_margin_amount is not null

),

compared as (

    select
        totals.measure,
        totals.recomputed_amount,
        mart_totals.mart_amount
    from totals
    full outer join mart_totals
        on totals.measure = mart_totals.measure

)

select * from compared
where coalesce(recomputed_amount, 0) <> coalesce(mart_amount, 0)
