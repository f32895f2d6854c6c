{{ config(tags=['pii']) }}


{#-
    One row per customer_key with the profile of the customer's primary CRM record: the earliest-created
    CRM id in the identity component (ties: the lowest id). A customer without any CRM record still has
    a row, with a null profile. Holds PII (e-mail, phone, names, birth date, gender, city): schema
    `restricted`, never published to BI; marts in core/rox read only its non-PII columns.
    age_band is measured at int_as_of_date (var as_of_date, else the day after the newest order), so a
    rebuild of the same data gives the same bands.
-#}

with

linked as (

    select * from {{ ref('int_identities_linked') }}

),

crm_customers as (

    select * from {{ ref('stg_crm__customers') }}

),

profile_versions as (

    select * from {{ ref('int_crm_customer_versions_counted') }}

),

customers as (

    select distinct customer_key
    from linked

),

as_of as (

    select as_of_date from {{ ref('int_as_of_date') }}

),

-- every CRM record of the customer, the earliest created first
crm_records as (

    select
        linked.customer_key,
        crm_customers.crm_customer_id,
        crm_customers.referred_by_crm_customer_id,
        crm_customers.email,
        crm_customers.phone_e164,
        crm_customers.first_name,
        crm_customers.last_name,
        crm_customers.gender,
        crm_customers.city,
        crm_customers.segment,
        crm_customers.industry_vertical,
        crm_customers.country_code,
        crm_customers.acquisition_channel,
        crm_customers.birth_date,
        crm_customers.created_at,
        crm_customers.updated_at,
        row_number() over (
            partition by linked.customer_key
            order by crm_customers.created_at, crm_customers.crm_customer_id
        ) as crm_record_rank,
        count(*) over (partition by linked.customer_key) as n_crm_records
    from linked
    inner join crm_customers
        on
            linked.source_system = 'crm'
            and linked.source_id = crm_customers.crm_customer_id

),

-- age in whole years on as_of_date (birthday not reached yet this year: one less)
primary_records as (

    select
        crm_records.customer_key,
        crm_records.crm_customer_id,
        crm_records.referred_by_crm_customer_id,
        crm_records.email,
        crm_records.phone_e164,
        crm_records.first_name,
        crm_records.last_name,
        crm_records.gender,
        crm_records.city,
        crm_records.segment,
        crm_records.industry_vertical,
        crm_records.country_code,
        crm_records.acquisition_channel,
        crm_records.n_crm_records,
        crm_records.birth_date,
        crm_records.created_at,
        crm_records.updated_at,
        extract(year from as_of.as_of_date) - extract(year from crm_records.birth_date)
        - case
            when
                extract(month from as_of.as_of_date) * 100 + extract(day from as_of.as_of_date)
                < extract(month from crm_records.birth_date) * 100
                + extract(day from crm_records.birth_date)
                then 1
            else 0
        end as age_years
    from crm_records
    cross join as_of
    where crm_records.crm_record_rank = 1

),

referrers as (

    select
        source_id as crm_customer_id,
        customer_key
    from linked
    where source_system = 'crm'

),

final as (

    select
        customers.customer_key,
        primary_records.crm_customer_id,
        referrers.customer_key as referred_by_customer_key,
        primary_records.email,
        primary_records.phone_e164,
        primary_records.first_name,
        primary_records.last_name,
        primary_records.gender,
        primary_records.city,
        primary_records.segment,
        primary_records.industry_vertical,
        primary_records.country_code,
        primary_records.acquisition_channel,
        case
            when primary_records.age_years is null then null
            when primary_records.age_years < 18 then '0-17'
            when primary_records.age_years < 25 then '18-24'
            when primary_records.age_years < 35 then '25-34'
            when primary_records.age_years < 45 then '35-44'
            when primary_records.age_years < 55 then '45-54'
            when primary_records.age_years < 65 then '55-64'
            else '65+'
        end as age_band,
        coalesce(primary_records.n_crm_records, 0) as n_crm_records,
        coalesce(versions.n_profile_versions, 0) as n_profile_versions,
        primary_records.crm_customer_id is not null as has_crm_profile,
        primary_records.birth_date,
        versions.profile_valid_from,
        primary_records.created_at as crm_created_at,
        primary_records.updated_at as crm_updated_at
    from customers
    left join primary_records
        on customers.customer_key = primary_records.customer_key
    left join referrers
        on primary_records.referred_by_crm_customer_id = referrers.crm_customer_id
    left join profile_versions as versions
        on primary_records.crm_customer_id = versions.crm_customer_id

)

select * from final
