{#-
    One row per survey response, with its NPS, CSAT and CES scores and their bands (the bands, their
    polarity and the follow-up rule come from seeds/survey_metric_thresholds.csv).
    No free text: a verbatim can hold PII, so only has_comment is exposed here.
-#}

with

responses as (

    select * from {{ ref('int_survey_answers_pivoted') }}

),

linked as (

    select * from {{ ref('int_identities_linked') }}

),

final as (

    select
        responses.response_id,
        linked.customer_key,
        responses.invitation_id,
        responses.survey_id,
        responses.touchpoint_id,
        responses.order_id,
        responses.survey_type,
        responses.journey_stage,
        responses.invitation_channel,
        responses.device,
        responses.language_code,
        responses.locale,
        nps_bands.band as nps_group,
        csat_bands.band as csat_band,
        ces_bands.band as ces_band,
        responses.nps_score,
        responses.csat_score,
        responses.ces_score,
        csat_bands.polarity = 'positive' as is_csat_satisfied,
        ces_bands.polarity = 'positive' as is_ces_easy,
        -- the first metric (NPS, CSAT, CES) whose band asks for a follow-up (closed loop)
        case
            when nps_bands.needs_follow_up then 'nps'
            when csat_bands.needs_follow_up then 'csat'
            when ces_bands.needs_follow_up then 'ces'
        end as follow_up_metric,
        responses.has_comment,
        cast(responses.submitted_at as date) as submitted_date,
        responses.sent_at,
        responses.submitted_at
    from responses
    left join linked
        on
            responses.identity_source_system = linked.source_system
            and responses.identity_source_id = linked.source_id
    {{ join_metric_band('nps', 'responses.nps_score', 'nps_bands') }}
    {{ join_metric_band('csat', 'responses.csat_score', 'csat_bands') }}
    {{ join_metric_band('ces', 'responses.ces_score', 'ces_bands') }}

)

select * from final
