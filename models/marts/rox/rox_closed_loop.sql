{#-
    One row per answer whose band asks for a follow-up (fct_survey_responses.follow_up_metric, from the
    survey_metric_thresholds seed: by default NPS detractors, dissatisfied CSAT, difficult CES), with the
    metric and band that raised it: did someone get back to the customer, how fast,
    and did the customer buy again? The follow-up is the customer's first CRM interaction of purpose
    follow_up (fct_journey_events) after the answer and before the customer's next detractor answer
    (a call after a newer complaint answers that one); the SLA is var closed_loop_sla_hours (72).
    Status is evaluated at the as-of date (int_as_of_date): what happened after it is not
    counted.
-#}

{%- set sla_hours = number_var('closed_loop_sla_hours', 72) %}

with

responses as (

    select * from {{ ref('fct_survey_responses') }}

),

events as (

    select * from {{ ref('fct_journey_events') }}

),

orders as (

    select * from {{ ref('fct_orders') }}

),

customers as (

    select * from {{ ref('fct_customer') }}

),

as_of as (

    select as_of_at from {{ ref('int_as_of_date') }}

),

detractors as (

    select
        response_id,
        customer_key,
        touchpoint_id,
        nps_score,
        follow_up_metric as experience_metric,
        case follow_up_metric
            when 'nps' then nps_group
            when 'csat' then csat_band
            when 'ces' then ces_band
        end as experience_group,
        case follow_up_metric
            when 'nps' then nps_score
            when 'csat' then csat_score
            when 'ces' then ces_score
        end as experience_score,
        submitted_at as answered_at,
        -- the customer's next detractor answer closes the window of this one (anonymous answers
        -- share a null partition, but never match a follow-up)
        lead(submitted_at) over (
            partition by customer_key order by submitted_at asc, response_id asc
        ) as next_detractor_answered_at
    from responses
    where follow_up_metric is not null

),

follow_ups as (

    select
        events.customer_key,
        events.source_id as interaction_id,
        events.channel,
        events.occurred_at
    from events
    cross join as_of
    where
        events.event_source = 'interaction'
        and events.event_type = 'interaction_follow_up'
        and events.customer_key is not null
        and events.occurred_at <= as_of.as_of_at

),

follow_ups_ranked as (

    select
        detractors.response_id,
        follow_ups.interaction_id,
        follow_ups.channel,
        follow_ups.occurred_at,
        row_number() over (
            partition by detractors.response_id
            order by follow_ups.occurred_at asc, follow_ups.interaction_id asc
        ) as follow_up_rank
    from detractors
    inner join follow_ups
        on
            detractors.customer_key = follow_ups.customer_key
            and detractors.answered_at < follow_ups.occurred_at
            and (
                detractors.next_detractor_answered_at is null
                or detractors.next_detractor_answered_at > follow_ups.occurred_at
            )

),

later_orders as (

    select
        orders.customer_key,
        orders.order_id,
        orders.ordered_at
    from orders
    cross join as_of
    where
        not orders.is_cancelled
        and orders.customer_key is not null
        and orders.ordered_at <= as_of.as_of_at

),

next_orders_ranked as (

    select
        detractors.response_id,
        later_orders.ordered_at,
        row_number() over (
            partition by detractors.response_id
            order by later_orders.ordered_at asc, later_orders.order_id asc
        ) as order_rank
    from detractors
    inner join later_orders
        on
            detractors.customer_key = later_orders.customer_key
            and detractors.answered_at < later_orders.ordered_at

),

joined as (

    select
        detractors.response_id,
        detractors.customer_key,
        detractors.touchpoint_id,
        follow_ups_ranked.interaction_id as follow_up_interaction_id,
        customers.segment,
        follow_ups_ranked.channel as follow_up_channel,
        detractors.nps_score,
        detractors.experience_metric,
        detractors.experience_group,
        detractors.experience_score,
        coalesce(customers.has_crm_profile, false) as has_crm_profile,
        as_of.as_of_at,
        detractors.answered_at,
        {{ dbt.dateadd('hour', sla_hours, 'detractors.answered_at') }} as follow_up_due_at,
        follow_ups_ranked.occurred_at as followed_up_at,
        next_orders_ranked.ordered_at as next_order_at
    from detractors
    cross join as_of
    left join follow_ups_ranked
        on
            detractors.response_id = follow_ups_ranked.response_id
            and follow_ups_ranked.follow_up_rank = 1
    left join next_orders_ranked
        on
            detractors.response_id = next_orders_ranked.response_id
            and next_orders_ranked.order_rank = 1
    left join customers
        on detractors.customer_key = customers.customer_key

),

final as (

    select
        response_id,
        customer_key,
        touchpoint_id,
        follow_up_interaction_id,
        segment,
        case
            when followed_up_at is not null then 'followed_up'
            when as_of_at > follow_up_due_at then 'overdue'
            else 'open_within_sla'
        end as follow_up_status,
        follow_up_channel,
        experience_metric,
        experience_group,
        cast(experience_score as integer) as experience_score,
        nps_score,
        {{ round_half_up(
            'cast(' ~ dbt.datediff('answered_at', 'followed_up_at', 'second') ~ ' as double)'
            ~ ' / 3600',
            2
        ) }} as hours_to_follow_up,
        cast(
            {{ dbt.datediff('answered_at', 'next_order_at', 'day') }}
            as integer
        ) as days_to_next_order,
        followed_up_at is not null as has_follow_up,
        -- null while the SLA is still running without a follow-up: not yet known
        case
            when followed_up_at is not null then followed_up_at <= follow_up_due_at
            when as_of_at > follow_up_due_at then false
        end as is_followed_up_within_sla,
        next_order_at is not null as has_purchased_after,
        has_crm_profile,
        cast(as_of_at as date) as as_of_date,
        answered_at,
        follow_up_due_at,
        followed_up_at,
        next_order_at
    from joined

)

select * from final
