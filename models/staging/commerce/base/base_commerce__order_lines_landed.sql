{{ config(materialized='ephemeral') }}

{#-
    The order_lines landing table as read and renamed, before any check: base_commerce__order_lines
    reads it beside base_commerce__orders (the foreign-key check), so the landing table is read in one
    place and the check never joins a source directly. Ephemeral: inlined into its one reader.
-#}

with

source as (

    select * from {{ read_source('commerce', 'order_lines') }}

),

renamed as (

    select
        ----------  ids
        {{ clean_text('order_id') }} as order_id,
        {{ clean_text('order_line_id') }} as order_line_id,
        {{ clean_text('product_id') }} as product_id,

        ----------  numerics (order currency; a missing cost column reads as null)
        quantity,
        cast(unit_price as decimal(18, 2)) as unit_price_local_amount,
        cast(unit_cost as decimal(18, 2)) as unit_cost_local_amount,

        ----------  load metadata
        _uncastable_columns,
        _loaded_at,
        load_date

    from source

)

select * from renamed
