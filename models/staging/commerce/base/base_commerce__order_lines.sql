{{ config(**incremental_by_load_config(['order_id', 'order_line_id'])) }}

{#-
    Incremental by load (macros/staging/incremental_by_load.sql): a run rewrites whole loads (load_date),
    so the result equals a full refresh. Versions are ranked by (order_id, order_line_id). The foreign-key
    check reads base_commerce__orders, so rule 5 re-runs it over the rows already built (an order that
    arrived after its lines, or was withdrawn).
-#}

{%- set row_reason -%}
    case
        when renamed.order_id is null or renamed.order_line_id is null then 'null_id'
        {{ uncastable_row_reason() }}
        when arrived_orders.order_id is null then 'orphan_fk'
        when renamed.quantity < 0 then 'negative_quantity'
        when renamed.quantity is null or renamed.quantity = 0 then 'invalid_value'
    end
{%- endset -%}

{%- set row_reason_joins -%}
    left join arrived_orders
        on renamed.order_id = arrived_orders.order_id
{%- endset %}

with

landing as {{ cte_not_materialized() }} (

    -- the landing table as read and renamed (ids cleaned)
    select * from {{ ref('base_commerce__order_lines_landed') }}

),

base_commerce__orders as (

    -- the FK check reads every order id that arrived, valid or not (see DECISIONLOG.md)
    select * from {{ ref('base_commerce__orders') }}

),

arrived_orders as (

    select distinct order_id
    from base_commerce__orders
    where order_id is not null

),
{{ incremental_by_load_scope(
    ['order_id', 'order_line_id'], reason=row_reason, reason_joins=row_reason_joins
) }}

renamed as (

    select landing.*
    from landing
    {{- incremental_by_load_read(['order_id', 'order_line_id']) }}

),

checked as (

    select
        case
            when renamed.order_id is not null and renamed.order_line_id is not null
                then {{ surrogate_key(['renamed.order_id', 'renamed.order_line_id']) }}
        end as order_line_key,
        renamed.*,
        {{ row_reason }} as row_reason

    from renamed
    {{ row_reason_joins }}

),

flagged as (

    select * from {{ flag_versions('checked', ['order_id', 'order_line_id']) }}

)

select flagged.*
from flagged
{{- incremental_by_load_written('flagged') }}
