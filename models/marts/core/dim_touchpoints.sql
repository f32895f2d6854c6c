{#- One row per touchpoint_id, with its journey stage (key, name, position) and owning team. -#}

with

touchpoints as (

    select * from {{ ref('touchpoints') }}

),

journey_stages as (

    select * from {{ ref('journey_stages') }}

),

final as (

    select
        touchpoints.touchpoint_id,
        touchpoints.touchpoint_name,
        touchpoints.journey_stage,
        journey_stages.stage_name,
        touchpoints.channel as touchpoint_channel,
        touchpoints.owning_team,
        cast(journey_stages.stage_order as integer) as stage_order
    from touchpoints
    left join journey_stages
        on touchpoints.journey_stage = journey_stages.journey_stage

)

select * from final
