{{ config(materialized='table') }}

{#-
    Reads the parents' base models (every raw row, bad ones included) for the foreign-key and scale
    checks: an answer is an orphan only when its response or question never arrived at all, not when
    the parent row was quarantined. See DECISIONLOG.md.
-#}

with

renamed as (

    select * from {{ ref('base_survey__answers_landed') }}

),

responses as (

    select distinct response_id
    from {{ ref('base_survey__responses') }}
    where response_id is not null

),

questions as (

    select
        question_id,
        -- scale of the question's latest valid row (at most one row per id has no reason)
        max(case when quarantine_reason is null then scale_min end) as scale_min,
        max(case when quarantine_reason is null then scale_max end) as scale_max
    from {{ ref('base_survey__questions') }}
    where question_id is not null
    group by 1

),

checked as (

    select
        renamed.*,
        case
            when renamed.response_id is null or renamed.question_id is null then 'null_id'
            {{ uncastable_row_reason() }}
            when responses.response_id is null
                or questions.question_id is null
                then 'orphan_fk'
            when renamed.answer_numeric < questions.scale_min
                or renamed.answer_numeric > questions.scale_max
                then 'out_of_range_score'
        end as row_reason

    from renamed
    left join responses
        on renamed.response_id = responses.response_id
    left join questions
        on renamed.question_id = questions.question_id

)

select * from {{ flag_versions('checked', ['response_id', 'question_id']) }}
