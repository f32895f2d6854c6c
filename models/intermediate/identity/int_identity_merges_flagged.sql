{{ config(materialized='table') }}

{#- A table, not a view: quality_identity_merges_to_review and this model's key tests each read
    it, and as a view each read computed its joins again (DECISIONLOG.md, "Intermediate joins read
    several times are tables"). -#}

{#- One row per customer_key whose merge looks suspicious and deserves a human look: several CRM
    records, different names or countries, an unusually large component, or identities that shared a
    phone with other people (household lines, not used to link). -#}

with

linked as (

    select * from {{ ref('int_identities_linked') }}

),

match_keys as (

    select * from {{ ref('int_identity_match_keys') }}

),

crm_customers as (

    select * from {{ ref('stg_crm__customers') }}

),

crm_profiles as (

    select
        linked.customer_key,
        count(distinct crm_customers.crm_customer_id) as n_crm_records,
        count(
            distinct lower(crm_customers.first_name || ' ' || crm_customers.last_name)
        ) as n_names,
        count(distinct crm_customers.country_code) as n_countries
    from linked
    inner join crm_customers
        on linked.source_system = 'crm' and linked.source_id = crm_customers.crm_customer_id
    group by linked.customer_key

),

shared_phones as (

    select
        linked.customer_key,
        count(distinct match_keys.match_key) as n_shared_phones
    from linked
    inner join match_keys
        on linked.identity_id = match_keys.identity_id
    where match_keys.is_ambiguous
    group by linked.customer_key

),

sizes as (

    select
        customer_key,
        count(*) as n_identities,
        count(distinct source_system) as n_systems
    from linked
    group by customer_key

),

final as (

    select
        sizes.customer_key,
        sizes.n_identities,
        sizes.n_systems,
        coalesce(crm_profiles.n_crm_records, 0) as n_crm_records,
        coalesce(crm_profiles.n_names, 0) as n_names,
        coalesce(crm_profiles.n_countries, 0) as n_countries,
        coalesce(shared_phones.n_shared_phones, 0) as n_shared_phones,
        coalesce(crm_profiles.n_crm_records, 0) > 1 as has_several_crm_records,
        coalesce(crm_profiles.n_names, 0) > 1 as has_several_names,
        coalesce(crm_profiles.n_countries, 0) > 1 as has_several_countries,
        sizes.n_identities > {{ number_var('identity_large_component', 50) }} as is_large_component,
        coalesce(shared_phones.n_shared_phones, 0) > 0 as has_shared_phone
    from sizes
    left join crm_profiles
        on sizes.customer_key = crm_profiles.customer_key
    left join shared_phones
        on sizes.customer_key = shared_phones.customer_key

)

select *
from final
where
    has_several_crm_records
    or has_several_names
    or has_several_countries
    or is_large_component
    or has_shared_phone
