{#-
    One row per survey response, with its NPS, CSAT and CES scores and their bands (metric macros).
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
        {{ nps_group('responses.nps_score') }} as nps_group,
        {{ csat_band('responses.csat_score') }} as csat_band,
        {{ ces_band('responses.ces_score') }} as ces_band,
        responses.nps_score,
        responses.csat_score,
        responses.ces_score,
        {{ is_csat_satisfied('responses.csat_score') }} as is_csat_satisfied,
        {{ is_ces_easy('responses.ces_score') }} as is_ces_easy,
        responses.has_comment,
        cast(responses.submitted_at as date) as submitted_date,
        responses.sent_at,
        responses.submitted_at
    from responses
    left join linked
        on
            responses.identity_source_system = linked.source_system
            and responses.identity_source_id = linked.source_id

)

select * from final
