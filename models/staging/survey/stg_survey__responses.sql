with

base as (

    select * from {{ ref('base_survey__responses') }}

),

final as (

    select
        response_id,
        invitation_id,
        survey_id,
        email,
        locale,
        language_code,
        device,
        submitted_at,
        _loaded_at,
        load_date

    from base
    where quarantine_reason is null

)

select * from final
