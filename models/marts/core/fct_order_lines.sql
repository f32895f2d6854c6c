{{ config(**incremental_by_row_mart_config('order_line_key', marker='order_id')) }}

{%- set columns = [
    'order_line_key', 'order_id', 'order_line_id', 'customer_key', 'product_id', 'product_category',
    'quantity', 'unit_price_amount', 'gross_amount', 'discount_amount', 'refund_amount',
    'net_revenue_amount', 'cost_amount', 'gross_margin_amount', 'is_cancelled', 'ordered_date',
    'ordered_at'
] %}

{#-
    One row per order line, in the reporting currency, with the order's discount and whole-order
    refunds allocated to its lines to the cent: int_order_lines_allocated does the work (incremental by
    order); this mart publishes its business columns under the contract.

    Incremental by row on DuckDB (macros/utils/incremental_by_key.sql, incremental_by_row_select): each
    line is hashed and compared with the hash of the line as built (the contract has no fingerprint
    column); only the lines that changed or appeared are written, the vanished ones deleted. A table on
    Spark.
-#}

with

int_order_lines_allocated as {{ cte_not_materialized() }} (

    select * from {{ ref('int_order_lines_allocated') }}

),

fingerprinted as {{ cte_not_materialized() }} (

    select
        {{ columns | join(',\n        ') }},
        {{ row_fingerprint(columns[1:]) }} as input_fingerprint
    from int_order_lines_allocated

),

{% if is_incremental() -%}
{{ incremental_by_row_scope('order_line_key', 'fingerprinted', fingerprint_columns=columns[1:]) }}
{%- endif %}

final as (

    {{ incremental_by_row_select('order_line_key', 'fingerprinted', columns) }}

)

select * from final
