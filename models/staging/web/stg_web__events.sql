with

base as (

    select * from {{ ref('base_web__events') }}

),

final as (

    select
        event_id,
        anonymous_id,
        order_id,
        user_email,
        event_type,
        page_path,
        device,
        utm_source,
        occurred_at,
        _loaded_at,
        load_date

    from base
    where quarantine_reason is null

)

select * from final
