{{ config(**incremental_by_load_config(['invitation_id'])) }}

{#-
    Incremental by load (macros/staging/incremental_by_load.sql): a run rewrites whole loads (load_date),
    so the result equals a full refresh. Versions are ranked by invitation_id.
-#}

with

landing as {{ cte_not_materialized() }} (

    select * from {{ read_source('survey', 'invitations') }}

),
{{ incremental_by_load_scope(['invitation_id']) }}

source as (

    select landing.*
    from landing
    {{- incremental_by_load_read(['invitation_id']) }}

),

renamed as (

    select
        ----------  ids
        {{ clean_text('invitation_id') }} as invitation_id,
        {{ clean_text('survey_id') }} as survey_id,
        {{ clean_text('crm_customer_id') }} as crm_customer_id,
        {{ clean_text('order_id') }} as order_id,

        ----------  strings (PII: e-mail and phone normalised as identity keys)
        {{ normalise_email('email') }} as email,
        {{ normalise_phone('phone') }} as phone_e164,
        lower({{ clean_text('channel') }}) as invitation_channel,

        ----------  booleans
        delivered as is_delivered,

        ----------  timestamps (raw text kept for the quarantine reason)
        sent_at_raw,
        sent_at,

        ----------  load metadata
        _uncastable_columns,
        _loaded_at,
        load_date

    from source

),

checked as (

    select
        renamed.*,
        case
            when renamed.invitation_id is null then 'null_id'
            {{ timestamp_row_reasons('sent_at') }}
        end as row_reason

    from renamed

),

flagged as (

    select * from {{ flag_versions('checked', ['invitation_id']) }}

)

select flagged.*
from flagged
{{- incremental_by_load_written('flagged') }}
