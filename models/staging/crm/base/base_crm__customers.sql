{{ config(**incremental_by_load_config(['crm_customer_id'])) }}

{#-
    Incremental by load (macros/staging/incremental_by_load.sql): a run rewrites whole loads (load_date),
    so the result equals a full refresh. Versions are ranked by crm_customer_id.
-#}

with

landing as {{ cte_not_materialized() }} (

    select * from {{ read_source('crm', 'customers') }}

),
{{ incremental_by_load_scope(['crm_customer_id']) }}

source as (

    select landing.*
    from landing
    {{- incremental_by_load_read(['crm_customer_id']) }}

),

countries as (

    select
        country_code,
        calling_code
    from {{ ref('countries') }}

),

renamed as (

    select
        ----------  ids
        {{ clean_text('source.crm_customer_id') }} as crm_customer_id,
        {{ clean_text('source.referred_by_crm_customer_id') }} as referred_by_crm_customer_id,

        ----------  strings (PII: e-mail, phone and names stay in staging)
        {{ normalise_email('source.email') }} as email,
        {{ normalise_phone('source.phone', 'countries.calling_code') }} as phone_e164,
        {{ clean_text('source.first_name') }} as first_name,
        {{ clean_text('source.last_name') }} as last_name,
        lower({{ clean_text('source.gender') }}) as gender,
        {{ clean_text('source.city') }} as city,
        upper({{ clean_text('source.country') }}) as country_code,
        lower({{ clean_text('source.segment') }}) as segment,
        lower({{ clean_text('source.industry_vertical') }}) as industry_vertical,
        lower({{ clean_text('source.acquisition_channel') }}) as acquisition_channel,

        ----------  dates (PII)
        source.birth_date,

        ----------  timestamps (raw text kept for the quarantine reason)
        source.created_at_raw,
        source.updated_at_raw,
        source.created_at,
        source.updated_at,

        ----------  load metadata
        source._uncastable_columns,
        source._loaded_at,
        source.load_date

    from source
    left join countries
        on upper(trim(source.country)) = countries.country_code

),

checked as (

    select
        renamed.*,
        case
            when renamed.crm_customer_id is null then 'null_id'
            {{ timestamp_row_reasons(
                'created_at', optional=['updated_at'], not_after_load=['updated_at']
            ) }}
        end as row_reason

    from renamed

),

flagged as (

    select * from {{ flag_versions('checked', ['crm_customer_id']) }}

)

select flagged.*
from flagged
{{- incremental_by_load_written('flagged') }}
