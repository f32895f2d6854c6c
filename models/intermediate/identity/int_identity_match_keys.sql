{#- A table, not a view: int_identities_linked reads it in every propagation round, and on Spark the
    expanded view made the query plan (and its planning time) many times larger. -#}
{{ config(materialized='table') }}

{#- One row per identity and match key (e-mail, E.164 phone, CRM id): the edges of the identity
    graph.
    A phone carried by identities with different e-mails (a household line, a shared office phone) is
    kept but flagged `is_ambiguous` and not used to link. -#}

with

identities as (

    select * from {{ ref('int_identities_unioned') }}

),

keys as (

    select
        identity_id,
        'email:' || email_match_key as match_key,
        'email' as match_rule
    from identities
    where email_match_key is not null

    union all

    select
        identity_id,
        'phone:' || phone_e164 as match_key,
        'phone' as match_rule
    from identities
    where phone_e164 is not null

    union all

    select
        identity_id,
        'crm:' || crm_customer_id as match_key,
        'crm_id' as match_rule
    from identities
    where crm_customer_id is not null

),

-- an identity's phone key is its own phone, so the e-mails behind a phone come from the
-- identities alone, without joining the keys back to them; they differ exactly when the smallest
-- and the largest differ (min and max skip nulls, as count(distinct) did)
phone_emails as (

    select
        'phone:' || phone_e164 as match_key,
        min(email_match_key) <> max(email_match_key) as is_ambiguous
    from identities
    where phone_e164 is not null
    group by phone_e164

),

final as (

    select
        keys.identity_id,
        keys.match_key,
        keys.match_rule,
        coalesce(phone_emails.is_ambiguous, false) as is_ambiguous
    from keys
    left join phone_emails
        on keys.match_key = phone_emails.match_key

)

select * from final
