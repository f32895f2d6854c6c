with

base as (

    select * from {{ ref('base_survey__responses') }}

),

final as (

    select
        quarantine_reason,
        response_id,
        invitation_id,
        survey_id,
        locale,
        language_code,
        device,
        submitted_at_raw,
        _loaded_at,
        load_date

    from base
    where quarantine_reason is not null

)

select * from final
