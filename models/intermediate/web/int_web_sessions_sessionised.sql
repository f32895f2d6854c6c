{{ config(
    post_hook="{{ incremental_by_key_vanished('anonymous_id', ref('stg_web__events')) }}",
    **incremental_by_key_config('anonymous_id')
) }}

{%- set timeout_minutes = number_var('session_timeout_minutes', 30) %}

{#-
    One row per web/app session. Events of one device (anonymous_id) belong to the same session until
    the device is inactive for more than `session_timeout_minutes` (default 30); the next event starts a
    new session. Events without an anonymous_id cannot be tied to a device and are skipped (staging
    already quarantines events without a usable occurred_at). Device and utm_source are those of the
    session's first event (the landing).

    Incremental by device (macros/utils/incremental_by_key.sql): a run rebuilds the sessions of the
    devices whose events (or customer) changed since the table was built, every session of such a
    device (a late event renumbers the sessions after it); the timeout is part of the fingerprint.
-#}

with

events as {{ cte_not_materialized() }} (

    select * from {{ ref('stg_web__events') }}

),

linked as (

    select * from {{ ref('int_identities_linked') }}

),

fingerprinted as {{ cte_not_materialized() }} (

    select
        event_id,
        anonymous_id,
        order_id,
        event_type,
        device,
        utm_source,
        occurred_at,
        {{ row_fingerprint([
            'event_id', 'order_id', 'event_type', 'device', 'utm_source', 'occurred_at', timeout_minutes
        ]) }} as input_fingerprint
    from events
    where anonymous_id is not null

),

-- the person each device belongs to (one row per device)
key_lookups as (

    select
        source_id as anonymous_id,
        customer_key
    from linked
    where source_system = 'web'

),

{% if is_incremental() -%}
{{ incremental_by_key_scope('anonymous_id', 'fingerprinted', lookups=['customer_key']) }}
{%- endif %}

ordered_events as (

    select
        *,
        lag(occurred_at) over (
            partition by anonymous_id
            order by occurred_at, event_id
        ) as previous_occurred_at
    from fingerprinted
    {{- incremental_by_key_read('anonymous_id') }}

),

flagged as (

    select
        *,
        case
            when previous_occurred_at is null then 1
            when occurred_at > {{ dbt.dateadd('minute', timeout_minutes, 'previous_occurred_at') }}
                then 1
            else 0
        end as is_session_start
    from ordered_events

),

numbered as (

    select
        *,
        cast(sum(is_session_start) over (
            partition by anonymous_id
            order by occurred_at, event_id
            rows between unbounded preceding and current row
        ) as bigint) as session_number,
        event_type = 'checkout_complete' and order_id is not null as is_order_event
    from flagged

),

sequenced as (

    select
        *,
        row_number() over (
            partition by anonymous_id, session_number
            order by occurred_at, event_id
        ) as event_sequence
    from numbered

),

-- the orders a session completed, in order (a session rarely completes two)
session_orders as (

    select
        anonymous_id,
        session_number,
        order_id,
        row_number() over (
            partition by anonymous_id, session_number
            order by occurred_at, event_id
        ) as order_sequence
    from numbered
    where is_order_event

),

sessions as (

    select
        anonymous_id,
        session_number,
        max(case when event_sequence = 1 then device end) as device,
        max(case when event_sequence = 1 then utm_source end) as utm_source,
        count(*) as n_events,
        count(case when event_type = 'product_view' then event_id end) as n_product_views,
        coalesce(bool_or(event_type = 'add_to_cart'), false) as has_add_to_cart,
        coalesce(bool_or(event_type = 'checkout_start'), false) as has_checkout_start,
        coalesce(bool_or(event_type = 'checkout_complete'), false) as has_checkout_complete,
        min(occurred_at) as started_at,
        max(occurred_at) as ended_at,
        bit_xor(input_fingerprint) as input_fingerprint
    from sequenced
    group by anonymous_id, session_number

),

final as (

    select
        {{ surrogate_key(['sessions.anonymous_id', 'sessions.started_at']) }} as session_id,
        key_lookups.customer_key,
        sessions.anonymous_id,
        session_orders.order_id,
        case
            when sessions.device in ('ios_app', 'android_app') then 'TP-APP'
            else 'TP-WEB'
        end as touchpoint_id,
        sessions.device,
        sessions.utm_source,
        sessions.session_number,
        sessions.n_events,
        sessions.n_product_views,
        sessions.has_add_to_cart,
        sessions.has_checkout_start,
        sessions.has_checkout_complete,
        (
            sessions.has_checkout_start and not sessions.has_checkout_complete
        ) as is_checkout_abandoned,
        cast(sessions.started_at as date) as started_date,
        sessions.started_at,
        sessions.ended_at,
        sessions.input_fingerprint,
        {{ rebuild_bucket('sessions.anonymous_id') }} as rebuild_bucket
    from sessions
    left join session_orders
        on
            sessions.anonymous_id = session_orders.anonymous_id
            and sessions.session_number = session_orders.session_number
            and session_orders.order_sequence = 1
    left join key_lookups
        on sessions.anonymous_id = key_lookups.anonymous_id

)

select * from final
