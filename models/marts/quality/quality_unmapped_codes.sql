{#-
    One row per kind of code x source x code value that the reference seeds do not know: a touchpoint
    id missing from the touchpoints seed (its rows sit on the `unmapped` journey stage), an order channel
    the order_channel_touchpoints seed lacks (its orders have no purchase touchpoint), a survey metric
    the survey_metric_thresholds seed has no bands for, a comment language the sentiment lexicon does
    not cover, a CRM country the countries seed lacks (its national phone numbers cannot be read).
    A new code never fails the build: it lands here, so the data owner can add it to the seed.
-#}

with

journey_events as (

    select * from {{ ref('fct_journey_events') }}

),

questions as (

    select * from {{ ref('stg_survey__questions') }}

),

responses as (

    select * from {{ ref('stg_survey__responses') }}

),

crm_customers as (

    select * from {{ ref('stg_crm__customers') }}

),

thresholds as (

    select * from {{ ref('survey_metric_thresholds') }}

),

lexicon as (

    select * from {{ ref('sentiment_lexicon') }}

),

countries as (

    select * from {{ ref('countries') }}

),

unknown_touchpoints as (

    select
        'touchpoint_id' as code_type,
        journey_events.event_source as found_in,
        journey_events.touchpoint_id as code_value,
        journey_events.occurred_at
    from journey_events
    where not journey_events.is_touchpoint_known

),

-- an order channel the order_channel_touchpoints seed does not know: its orders have no purchase
-- touchpoint (fct_journey_events keeps the channel beside the null touchpoint)
unknown_order_channels as (

    select
        'order_channel' as code_type,
        journey_events.event_source as found_in,
        journey_events.channel as code_value,
        journey_events.occurred_at
    from journey_events
    where
        journey_events.event_source = 'order'
        and journey_events.touchpoint_id is null
        and journey_events.channel is not null

),

unknown_metrics as (

    select
        'survey_metric' as code_type,
        'survey_question' as found_in,
        questions.metric as code_value,
        cast(null as timestamp) as occurred_at
    from questions
    where
        questions.metric is not null
        and questions.metric not in ('open_text', 'other')
        and questions.metric not in (select thresholds.metric from thresholds)

),

unknown_languages as (

    select
        'language_code' as code_type,
        'survey_response' as found_in,
        responses.language_code as code_value,
        responses.submitted_at as occurred_at
    from responses
    where
        responses.language_code is not null
        and responses.language_code not in (select lexicon.language_code from lexicon)

),

unknown_countries as (

    select
        'country_code' as code_type,
        'crm_customer' as found_in,
        crm_customers.country_code as code_value,
        crm_customers.created_at as occurred_at
    from crm_customers
    where
        crm_customers.country_code is not null
        and crm_customers.country_code not in (select countries.country_code from countries)

),

unioned as (

    select * from unknown_touchpoints
    union all
    select * from unknown_order_channels
    union all
    select * from unknown_metrics
    union all
    select * from unknown_languages
    union all
    select * from unknown_countries

),

final as (

    select
        code_type,
        found_in,
        code_value,
        count(*) as n_rows,
        min(occurred_at) as first_seen_at,
        max(occurred_at) as last_seen_at
    from unioned
    group by code_type, found_in, code_value

)

select * from final
