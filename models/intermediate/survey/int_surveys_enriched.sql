{#- One row per survey_id: the survey with the journey stage of the touchpoint it measures. -#}

with

surveys as (

    select * from {{ ref('stg_survey__surveys') }}

),

touchpoints as (

    select * from {{ ref('touchpoints') }}

),

final as (

    select
        surveys.survey_id,
        surveys.touchpoint_id,
        surveys.survey_name,
        surveys.survey_type,
        -- a touchpoint the seed does not know: 'unmapped' (quality_unmapped_codes), never null
        case
            when touchpoints.touchpoint_id is not null
                then touchpoints.journey_stage
            else 'unmapped'
        end as journey_stage,
        surveys.created_at
    from surveys
    left join touchpoints
        on surveys.touchpoint_id = touchpoints.touchpoint_id

)

select * from final
