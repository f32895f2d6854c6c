with

base as (

    select * from {{ ref('base_survey__surveys') }}

),

final as (

    select
        survey_id,
        touchpoint_id,
        survey_name,
        survey_type,
        created_at,
        _loaded_at,
        load_date

    from base
    where quarantine_reason is null

)

select * from final
