with

base as (

    select * from {{ ref('base_survey__questions') }}

),

final as (

    select
        question_id,
        survey_id,
        metric,
        question_text,
        scale_min,
        scale_max,
        _loaded_at,
        load_date

    from base
    where quarantine_reason is null

)

select * from final
