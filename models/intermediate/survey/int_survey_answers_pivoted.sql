{{ config(materialized='table') }}

{#- A table, not a view: int_journey_events_unioned, fct_survey_responses and this model's tests
    each read it, and as a view each read computed its joins again (DECISIONLOG.md, "Intermediate
    joins read several times are tables"). -#}

{#-
    One row per survey response: its context (invitation, survey, touchpoint) and its NPS, CSAT and CES
    answers side by side. Only valid answers (is_valid_metric_answer) to questions whose metric is nps,
    csat or ces count; when a survey asks the same metric twice, the answer to the question with the
    lowest question_id (text order) is the response's score. A response without any valid score is kept
    (its scores are null): it still counts as a response.
-#}

with

answers as (

    select * from {{ ref('stg_survey__answers') }}

),

questions as (

    select * from {{ ref('stg_survey__questions') }}

),

responses as (

    select * from {{ ref('stg_survey__responses') }}

),

invitations as (

    select * from {{ ref('stg_survey__invitations') }}

),

surveys as (

    select * from {{ ref('int_surveys_enriched') }}

),

-- the metrics and their scales (seeds/survey_metric_thresholds.csv)
metric_scales as (

    select
        metric,
        min(scale_min) as scale_min,
        max(scale_max) as scale_max
    from {{ ref('survey_metric_thresholds') }}
    group by metric

),

metric_answers as (

    select
        answers.response_id,
        questions.metric,
        cast(answers.answer_numeric as integer) as score,
        row_number() over (
            partition by answers.response_id, questions.metric
            order by answers.question_id
        ) as metric_answer_rank
    from answers
    inner join questions
        on answers.question_id = questions.question_id
    inner join metric_scales
        on questions.metric = metric_scales.metric
    where
        {{ is_valid_metric_answer(
            'answers.answer_numeric', 'metric_scales.scale_min', 'metric_scales.scale_max'
        ) }}

),

scores as (

    select
        response_id,
        max(case when metric = 'nps' then score end) as nps_score,
        max(case when metric = 'csat' then score end) as csat_score,
        max(case when metric = 'ces' then score end) as ces_score
    from metric_answers
    where metric_answer_rank = 1
    group by response_id

),

-- a comment is a non-empty answer to an open-text question (the text itself stays out of marts)
comments as (

    select
        answers.response_id,
        count(*) as n_comments
    from answers
    inner join questions
        on answers.question_id = questions.question_id
    where questions.metric = 'open_text' and answers.answer_text is not null
    group by answers.response_id

),

final as (

    select
        responses.response_id,
        responses.invitation_id,
        responses.survey_id,
        invitations.order_id,
        -- the identity that names the respondent in int_identities_linked
        case
            when responses.invitation_id is not null then 'survey'
            else 'survey_response'
        end as identity_source_system,
        coalesce(responses.invitation_id, responses.response_id) as identity_source_id,
        surveys.survey_type,
        surveys.touchpoint_id,
        surveys.journey_stage,
        -- anonymous responses come from the website intercept: no invitation, channel web
        case
            when responses.invitation_id is null then 'web'
            else invitations.invitation_channel
        end as invitation_channel,
        responses.device,
        responses.language_code,
        responses.locale,
        scores.nps_score,
        scores.csat_score,
        scores.ces_score,
        coalesce(comments.n_comments, 0) > 0 as has_comment,
        invitations.sent_at,
        responses.submitted_at
    from responses
    left join invitations
        on responses.invitation_id = invitations.invitation_id
    left join surveys
        on responses.survey_id = surveys.survey_id
    left join scores
        on responses.response_id = scores.response_id
    left join comments
        on responses.response_id = comments.response_id

)

select * from final
