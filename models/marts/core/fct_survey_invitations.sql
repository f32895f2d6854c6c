{#-
    One row per survey invitation: whether it was delivered and answered. The base of response rates
    (responses / delivered invitations, macro response_rate_pct).
-#}

with

invitations as (

    select * from {{ ref('stg_survey__invitations') }}

),

responses as (

    select * from {{ ref('stg_survey__responses') }}

),

surveys as (

    select * from {{ ref('int_surveys_enriched') }}

),

linked as (

    select * from {{ ref('int_identities_linked') }}

),

-- the first response to each invitation (an invitation is answered at most once in practice)
first_responses as (

    select
        invitation_id,
        response_id
    from (
        select
            invitation_id,
            response_id,
            row_number() over (
                partition by invitation_id
                order by submitted_at, response_id
            ) as response_rank
        from responses
        where invitation_id is not null
    ) as ranked
    where response_rank = 1

),

final as (

    select
        invitations.invitation_id,
        linked.customer_key,
        invitations.survey_id,
        surveys.touchpoint_id,
        first_responses.response_id,
        invitations.order_id,
        surveys.survey_type,
        surveys.journey_stage,
        invitations.invitation_channel,
        coalesce(invitations.is_delivered, false) as is_delivered,
        first_responses.response_id is not null as has_response,
        cast(invitations.sent_at as date) as sent_date,
        invitations.sent_at
    from invitations
    left join surveys
        on invitations.survey_id = surveys.survey_id
    left join first_responses
        on invitations.invitation_id = first_responses.invitation_id
    left join linked
        on
            linked.source_system = 'survey'
            and invitations.invitation_id = linked.source_id

)

select * from final
