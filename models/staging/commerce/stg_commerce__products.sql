with

base as (

    select * from {{ ref('base_commerce__products') }}

),

final as (

    select
        product_id,
        product_name,
        product_category,
        currency_code,
        list_price_amount,
        unit_cost_amount,
        _loaded_at,
        load_date

    from base
    where quarantine_reason is null

)

select * from final
