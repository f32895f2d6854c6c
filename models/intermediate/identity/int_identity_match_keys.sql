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

phone_emails as (

    select
        keys.match_key,
        count(distinct identities.email_match_key) as n_distinct_emails
    from keys
    inner join identities
        on keys.identity_id = identities.identity_id
    where keys.match_rule = 'phone'
    group by keys.match_key

),

final as (

    select
        keys.identity_id,
        keys.match_key,
        keys.match_rule,
        coalesce(phone_emails.n_distinct_emails > 1, false) as is_ambiguous
    from keys
    left join phone_emails
        on keys.match_key = phone_emails.match_key

)

select * from final
