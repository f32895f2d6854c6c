{{ config(
    post_hook="{{ incremental_by_key_vanished('order_id', ref('int_order_lines_joined')) }}",
    **incremental_by_key_config('order_id')
) }}

{#-
    One row per order line, priced and allocated: money in the reporting currency at the rate of the
    order month; order-level money (discount, whole-order refunds) converted once per order and shared
    out pro rata to line gross: every line but the last (by order_line_id) gets its rounded share, the
    last line gets the remainder, so the lines of an order add up to the order total to the cent.
    fct_order_lines publishes it (its contract); this model holds the work.

    Incremental by order (macros/utils/incremental_by_key.sql): a line's figures depend only on the
    lines of its own order (the allocation shares out order totals), so a run rebuilds the orders whose
    joined lines changed since the table was built: a line, refund, rate, product category, customer
    key or the reporting currency. The fingerprint covers every column of int_order_lines_joined.
-#}

with

int_order_lines_joined as (

    select * from {{ ref('int_order_lines_joined') }}

),

fingerprinted as (

    select
        *,
        {{ row_fingerprint([
            'order_line_key', 'order_id', 'order_line_id', 'customer_key', 'product_id',
            'product_category', 'currency_code', 'quantity', 'unit_price_local_amount',
            'unit_cost_local_amount', 'line_refund_local_amount', 'order_discount_local_amount',
            'order_refund_local_amount', 'order_units_per_usd', 'reporting_units_per_usd',
            'is_cancelled', 'ordered_at'
        ]) }} as input_fingerprint
    from int_order_lines_joined

),

{% if is_incremental() -%}
{{ incremental_by_key_scope('order_id', 'fingerprinted') }}
{%- endif %}

converted as (

    select
        *,
        {{ to_reporting_currency(
            'unit_price_local_amount',
            'order_units_per_usd',
            'reporting_units_per_usd'
        ) }} as unit_price_amount,
        -- line totals are converted as a whole (not quantity x a rounded unit price),
        -- so a refund of the full line converts to exactly the line's gross
        {{ to_reporting_currency(
            'quantity * unit_price_local_amount',
            'order_units_per_usd',
            'reporting_units_per_usd'
        ) }} as gross_amount,
        {{ to_reporting_currency(
            'quantity * unit_cost_local_amount',
            'order_units_per_usd',
            'reporting_units_per_usd'
        ) }} as cost_amount,
        {{ to_reporting_currency(
            'line_refund_local_amount',
            'order_units_per_usd',
            'reporting_units_per_usd'
        ) }} as line_refund_amount,
        {{ to_reporting_currency(
            'order_discount_local_amount',
            'order_units_per_usd',
            'reporting_units_per_usd'
        ) }} as order_discount_amount,
        {{ to_reporting_currency(
            'order_refund_local_amount',
            'order_units_per_usd',
            'reporting_units_per_usd'
        ) }} as order_refund_amount
    from fingerprinted
    {{- incremental_by_key_read('order_id') }}

),

-- each line's share of the order: pro rata to gross, equal shares when the order's gross is 0
weighted as (

    select
        *,
        case
            when sum(gross_amount) over (partition by order_id) <> 0
                then (
                    cast(gross_amount as double)
                    / cast(sum(gross_amount) over (partition by order_id) as double)
                )
            else 1 / cast(count(*) over (partition by order_id) as double)
        end as allocation_share,
        row_number() over (
            partition by order_id
            order by try_cast(order_line_id as bigint) asc nulls last, order_line_id asc
        ) = count(*) over (partition by order_id) as is_last_line
    from converted

),

rounded as (

    select
        *,
        {{ round_to_cents('cast(order_discount_amount as double) * allocation_share') }}
            as discount_share_amount,
        {{ round_to_cents('cast(order_refund_amount as double) * allocation_share') }}
            as refund_share_amount
    from weighted

),

share_totals as (

    select
        *,
        sum(discount_share_amount) over (partition by order_id) as discount_share_total,
        sum(refund_share_amount) over (partition by order_id) as refund_share_total
    from rounded

),

-- the last line takes the order total less the other lines' rounded shares
allocated as (

    select
        *,
        case
            when is_last_line
                then order_discount_amount - discount_share_total + discount_share_amount
            else discount_share_amount
        end as discount_amount,
        line_refund_amount
        + case
            when is_last_line
                then order_refund_amount - refund_share_total + refund_share_amount
            else refund_share_amount
        end as refund_amount
    from share_totals

),

measured as (

    select
        *,
        {{ net_revenue('gross_amount', 'discount_amount', 'refund_amount', 'is_cancelled') }}
            as net_revenue_amount
    from allocated

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
        cast(discount_amount as decimal(18, 2)) as discount_amount,
        cast(refund_amount as decimal(18, 2)) as refund_amount,
        net_revenue_amount,
        cost_amount,
        {{ gross_margin('net_revenue_amount', 'cost_amount', 'is_cancelled') }}
            as gross_margin_amount,
        is_cancelled,
        cast(ordered_at as date) as ordered_date,
        ordered_at,
        input_fingerprint,
        {{ rebuild_bucket('order_id') }} as rebuild_bucket
    from measured

)

select * from final
