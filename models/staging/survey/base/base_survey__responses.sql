{{ config(**incremental_by_load_config(['response_id'])) }}

{#-
    Incremental by load (macros/staging/incremental_by_load.sql): a run rewrites whole loads (load_date),
    so the result equals a full refresh. Versions are ranked by response_id.
-#}

with

landing as {{ cte_not_materialized() }} (

    select * from {{ read_source('survey', 'responses') }}

),
{{ incremental_by_load_scope(['response_id']) }}

source as (

    select landing.*
    from landing
    {{- incremental_by_load_read(['response_id']) }}

),

renamed as (

    select
        ----------  ids
        {{ clean_text('response_id') }} as response_id,
        {{ clean_text('invitation_id') }} as invitation_id,
        {{ clean_text('survey_id') }} as survey_id,

        ----------  strings (PII: e-mail normalised as an identity key)
        {{ normalise_email('email') }} as email,
        lower({{ clean_text(adapter.quote('language')) }}) as locale,  -- noqa: RF04
        split_part(  -- noqa: RF04
            lower({{ clean_text(adapter.quote('language')) }}), '-', 1
        ) as language_code,
        lower({{ clean_text('device') }}) as device,

        ----------  timestamps (raw text kept for the quarantine reason)
        submitted_at_raw,
        submitted_at,

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
            when renamed.response_id is null then 'null_id'
            {{ timestamp_row_reasons('submitted_at') }}
        end as row_reason

    from renamed

),

flagged as (

    select * from {{ flag_versions('checked', ['response_id']) }}

)

select flagged.*
from flagged
{{- incremental_by_load_written('flagged') }}
