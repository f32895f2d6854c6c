{{ config(materialized='table') }}

with

source as (

    select * from {{ read_source('commerce', 'products') }}

),

currencies as (

    select distinct currency_code from {{ ref('currency_rates') }}

),

renamed as (

    select
        ----------  ids
        {{ clean_text('product_id') }} as product_id,

        ----------  strings
        {{ clean_text('name') }} as product_name,
        lower({{ clean_text('category') }}) as product_category,
        upper({{ clean_text('currency') }}) as currency_code,

        ----------  numerics (product currency; a missing cost column reads as null)
        cast(list_price as decimal(18, 2)) as list_price_amount,
        cast(unit_cost as decimal(18, 2)) as unit_cost_amount,

        ----------  load metadata
        _uncastable_columns,
        _loaded_at,
        load_date

    from source

),

checked as (

    select
        renamed.*,
        case
            when renamed.product_id is null then 'null_id'
            {{ uncastable_row_reason() }}
            when currencies.currency_code is null then 'unknown_currency'
        end as row_reason

    from renamed
    left join currencies
        on renamed.currency_code = currencies.currency_code

)

select * from {{ flag_versions('checked', ['product_id']) }}
