with

base as (

    select * from {{ ref('base_survey__surveys') }}

),

final as (

    select
        quarantine_reason,
        survey_id,
        touchpoint_id,
        survey_name,
        survey_type,
        created_at_raw,
        _loaded_at,
        load_date

    from base
    where quarantine_reason is not null

)

select * from final
