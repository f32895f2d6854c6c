{#-
    One row per CRM customer id in the snapshot snp_crm__customers: how many versions of the profile
    the snapshot holds and since when the current one has held. dim_customers reads the current
    profile from staging and this summary of its history.
-#}

with

profile_history as (

    select * from {{ ref('snp_crm__customers') }}

),

final as (

    select
        crm_customer_id,
        count(*) as n_profile_versions,
        max(case when dbt_valid_to is null then dbt_valid_from end) as profile_valid_from
    from profile_history
    group by crm_customer_id

)

select * from final
