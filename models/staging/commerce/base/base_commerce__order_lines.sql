{{ config(materialized='table') }}

with

renamed as (

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

checked as (

    select
        case
            when renamed.order_id is not null and renamed.order_line_id is not null
                then {{ surrogate_key(['renamed.order_id', 'renamed.order_line_id']) }}
        end as order_line_key,
        renamed.*,
        case
            when renamed.order_id is null or renamed.order_line_id is null then 'null_id'
            {{ uncastable_row_reason() }}
            when arrived_orders.order_id is null then 'orphan_fk'
            when renamed.quantity < 0 then 'negative_quantity'
            when renamed.quantity is null or renamed.quantity = 0 then 'invalid_value'
        end as row_reason

    from renamed
    left join arrived_orders
        on renamed.order_id = arrived_orders.order_id

)

select * from {{ flag_versions('checked', ['order_id', 'order_line_id']) }}
