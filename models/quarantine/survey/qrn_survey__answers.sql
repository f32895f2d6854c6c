with

base as (

    select * from {{ ref('base_survey__answers') }}

),

final as (

    select
        quarantine_reason,
        response_id,
        question_id,
        answer_text,
        answer_numeric,
        _loaded_at,
        load_date

    from base
    where quarantine_reason is not null

)

select * from final
