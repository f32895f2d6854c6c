{#-
    One row per customer touch (event_key = surrogate of event_source and source_id): the timeline of
    web/app sessions, orders, deliveries, support cases, CRM interactions and survey responses. The
    journey stage is the touchpoint's (touchpoints seed); without a known touchpoint it falls back to
    the source's default stage.
-#}

with

events as (

    select * from {{ ref('int_journey_events_unioned') }}

),

linked as (

    select * from {{ ref('int_identities_linked') }}

),

touchpoints as (

    select * from {{ ref('touchpoints') }}

),

final as (

    select
        events.event_key,
        linked.customer_key,
        events.source_id,
        events.touchpoint_id,
        events.event_source,
        events.event_type,
        -- a code the seeds do not know is 'unmapped' (quality_unmapped_codes), never null
        coalesce(touchpoints.journey_stage, events.fallback_journey_stage, 'unmapped')
            as journey_stage,
        events.touchpoint_id is null or touchpoints.touchpoint_id is not null
            as is_touchpoint_known,
        events.channel,
        cast(events.occurred_at as date) as event_date,
        events.occurred_at
    from events
    left join linked
        on
            events.identity_source_system = linked.source_system
            and events.identity_source_id = linked.source_id
    left join touchpoints
        on events.touchpoint_id = touchpoints.touchpoint_id

)

select * from final
