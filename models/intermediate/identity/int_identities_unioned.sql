{{ config(materialized='table') }}

{#- One row per source identity that could name a person: CRM customer, shop account, survey
    invitation, anonymous survey response that left an e-mail, and web device (anonymous_id) that logged in. -#}

with

crm_customers as (

    select * from {{ ref('stg_crm__customers') }}

),

shop_customers as (

    select * from {{ ref('stg_commerce__customers') }}

),

invitations as (

    select * from {{ ref('stg_survey__invitations') }}

),

responses as (

    select * from {{ ref('stg_survey__responses') }}

),

events as (

    select * from {{ ref('stg_web__events') }}

),

-- a device's e-mails differ exactly when the smallest and the largest differ: min and max are
-- plain aggregates, where count(distinct) kept a set of e-mails per device
web_devices as (

    select
        anonymous_id,
        min(user_email) as user_email,
        min(user_email) <> max(user_email) as is_shared_device,
        min(occurred_at) as first_seen_at
    from events
    where user_email is not null and anonymous_id is not null
    group by anonymous_id

),

unioned as (

    select
        'crm' as source_system,
        crm_customer_id as source_id,
        email,
        phone_e164,
        crm_customer_id,
        false as is_shared_device,
        created_at as first_seen_at
    from crm_customers

    union all

    select
        'commerce' as source_system,
        shop_customer_id as source_id,
        email,
        phone_e164,
        null as crm_customer_id,
        false as is_shared_device,
        created_at as first_seen_at
    from shop_customers

    union all

    select
        'survey' as source_system,
        invitation_id as source_id,
        email,
        phone_e164,
        crm_customer_id,
        false as is_shared_device,
        sent_at as first_seen_at
    from invitations

    union all

    select
        'survey_response' as source_system,
        response_id as source_id,
        email,
        null as phone_e164,
        null as crm_customer_id,
        false as is_shared_device,
        submitted_at as first_seen_at
    from responses
    where invitation_id is null and email is not null

    union all

    -- a device shared by several logged-in people cannot name one of them: no e-mail key
    select
        'web' as source_system,
        anonymous_id as source_id,
        case when not is_shared_device then user_email end as email,
        null as phone_e164,
        null as crm_customer_id,
        is_shared_device,
        first_seen_at
    from web_devices

),

final as (

    select
        source_system || ':' || source_id as identity_id,
        source_system,
        source_id,
        email,
        {{ email_match_key('email') }} as email_match_key,
        phone_e164,
        crm_customer_id,
        is_shared_device,
        first_seen_at,
        -- the earliest identity anchors its component, so keys stay put when later data arrives
        coalesce({{ iso_timestamp_text('first_seen_at') }}, '9999-12-31T00:00:00')
        || '|' || source_system || ':' || source_id as anchor_sort_key
    from unioned

)

select * from final
