{{ config(
    post_hook="{{ incremental_by_row_tombstones_cleared() }}",
    **incremental_by_key_config('event_key')
) }}

{%- set columns = [
    'event_key', 'event_source', 'source_id', 'identity_source_system', 'identity_source_id',
    'event_type', 'touchpoint_id', 'channel', 'fallback_journey_stage', 'occurred_at',
    'input_fingerprint', 'rebuild_bucket'
] %}
{#- a row's identity as stored (never null, tested): compared instead of the md5 key -#}
{%- set match_columns = ['event_source', 'source_id'] %}

{#-
    One row per touch from every source, before customer keys and touchpoint stages are attached
    (fct_journey_events does that): web/app sessions, orders placed, deliveries, support cases, CRM
    interactions and survey responses. Each row names the identity that resolves its person
    (identity_source_system, identity_source_id in int_identities_linked) and a fallback journey stage
    for rows whose touchpoint is unknown.

    Incremental by event (macros/utils/incremental_by_key.sql, one row per key): a row is a function of
    its own source row (and a seed), so its fingerprint is the hash of the row itself; a run writes the
    events whose row changed or appeared, and drops the events that vanished (a session renumbered by a
    late event, a re-delivered order now quarantined, a delivery that lost its date) through tombstones,
    because their keys exist only inside this model's union (incremental_by_row_select). Reading and
    hashing every source row stays (the union is the fingerprint); a daily run saves writing every event.
    The rows are compared narrow first, then the changed ones read again: every CTE is therefore
    `cte_not_materialized()`, or DuckDB would copy the whole union to read it twice.
-#}

with

sessions as {{ cte_not_materialized() }} (

    select * from {{ ref('int_web_sessions_sessionised') }}

),

orders as {{ cte_not_materialized() }} (

    select * from {{ ref('stg_commerce__orders') }}

),

channel_touchpoints as {{ cte_not_materialized() }} (

    select * from {{ ref('order_channel_touchpoints') }}

),

cases as {{ cte_not_materialized() }} (

    select * from {{ ref('stg_crm__cases') }}

),

interactions as {{ cte_not_materialized() }} (

    select * from {{ ref('stg_crm__interactions') }}

),

responses as {{ cte_not_materialized() }} (

    select * from {{ ref('int_survey_answers_pivoted') }}

),

session_events as {{ cte_not_materialized() }} (

    select
        'web_session' as event_source,
        session_id as source_id,
        'web' as identity_source_system,
        anonymous_id as identity_source_id,
        'session_started' as event_type,
        touchpoint_id,
        case when touchpoint_id = 'TP-APP' then 'app' else 'web' end as channel,
        'consideration' as fallback_journey_stage,
        started_at as occurred_at
    from sessions

),

order_events as {{ cte_not_materialized() }} (

    select
        'order' as event_source,
        orders.order_id as source_id,
        'commerce' as identity_source_system,
        orders.shop_customer_id as identity_source_id,
        'order_placed' as event_type,
        -- the purchase touchpoint of the channel (order_channel_touchpoints seed); none for a
        -- channel the seed does not know (the event keeps its purchase stage)
        channel_touchpoints.touchpoint_id,
        orders.order_channel as channel,
        'purchase' as fallback_journey_stage,
        orders.ordered_at as occurred_at
    from orders
    left join channel_touchpoints
        on orders.order_channel = channel_touchpoints.order_channel

),

-- a store purchase is handed over at the till (delivered_at = ordered_at): no delivery touch; an
-- order of a channel the seed does not know is taken to travel with a carrier
delivery_events as {{ cte_not_materialized() }} (

    select
        'delivery' as event_source,
        orders.order_id as source_id,
        'commerce' as identity_source_system,
        orders.shop_customer_id as identity_source_id,
        'order_delivered' as event_type,
        'TP-DELIVERY' as touchpoint_id,
        'logistics' as channel,
        'delivery' as fallback_journey_stage,
        orders.delivered_at as occurred_at
    from orders
    left join channel_touchpoints
        on orders.order_channel = channel_touchpoints.order_channel
    where
        orders.delivered_at is not null
        and coalesce(channel_touchpoints.is_carrier_delivered, true)

),

case_events as {{ cte_not_materialized() }} (

    select
        'support_case' as event_source,
        case_id as source_id,
        'crm' as identity_source_system,
        crm_customer_id as identity_source_id,
        'case_opened' as event_type,
        touchpoint_id,
        case_channel as channel,
        'support' as fallback_journey_stage,
        opened_at as occurred_at
    from cases

),

interaction_events as {{ cte_not_materialized() }} (

    select
        'interaction' as event_source,
        interaction_id as source_id,
        'crm' as identity_source_system,
        crm_customer_id as identity_source_id,
        'interaction_' || coalesce(purpose, 'other') as event_type,
        touchpoint_id,
        interaction_channel as channel,
        case purpose
            when 'marketing' then 'awareness'
            when 'onboarding' then 'onboarding'
            when 'support' then 'support'
            when 'follow_up' then 'loyalty'
        end as fallback_journey_stage,
        occurred_at
    from interactions

),

response_events as {{ cte_not_materialized() }} (

    select
        'survey_response' as event_source,
        response_id as source_id,
        identity_source_system,
        identity_source_id,
        'survey_submitted' as event_type,
        touchpoint_id,
        invitation_channel as channel,
        journey_stage as fallback_journey_stage,
        submitted_at as occurred_at
    from responses

),

unioned as {{ cte_not_materialized() }} (

    select * from session_events
    union all
    select * from order_events
    union all
    select * from delivery_events
    union all
    select * from case_events
    union all
    select * from interaction_events
    union all
    select * from response_events

),

keyed as {{ cte_not_materialized() }} (

    select
        {{ surrogate_key(['event_source', 'source_id']) }} as event_key,
        event_source,
        source_id,
        identity_source_system,
        identity_source_id,
        event_type,
        touchpoint_id,
        channel,
        fallback_journey_stage,
        occurred_at
    from unioned

),

fingerprinted as {{ cte_not_materialized() }} (

    select
        *,
        {{ row_fingerprint([
            'event_source', 'source_id', 'identity_source_system', 'identity_source_id', 'event_type',
            'touchpoint_id', 'channel', 'fallback_journey_stage', 'occurred_at'
        ]) }} as input_fingerprint,
        {{ rebuild_bucket('event_key') }} as rebuild_bucket
    from keyed

),

{% if is_incremental() -%}
{{ incremental_by_row_scope('event_key', 'fingerprinted', match_columns=match_columns) }}
{%- endif %}

final as (

    {{ incremental_by_row_select(
        'event_key', 'fingerprinted', columns, match_columns=match_columns
    ) }}

)

select * from final
