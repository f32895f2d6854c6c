{{ config(**incremental_by_load_config(['survey_id'])) }}

{#-
    Incremental by load (macros/staging/incremental_by_load.sql): a run rewrites whole loads (load_date),
    so the result equals a full refresh. Versions are ranked by survey_id.
-#}

with

landing as {{ cte_not_materialized() }} (

    select * from {{ read_source('survey', 'surveys') }}

),
{{ incremental_by_load_scope(['survey_id']) }}

source as (

    select landing.*
    from landing
    {{- incremental_by_load_read(['survey_id']) }}

),

renamed as (

    select
        ----------  ids
        {{ clean_text('survey_id') }} as survey_id,
        {{ clean_text('touchpoint_id') }} as touchpoint_id,

        ----------  strings
        {{ clean_text('name') }} as survey_name,
        lower({{ clean_text('survey_type') }}) as survey_type,

        ----------  timestamps (raw text kept for the quarantine reason)
        created_at_raw,
        created_at,

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
            when renamed.survey_id is null then 'null_id'
            {{ timestamp_row_reasons('created_at') }}
        end as row_reason

    from renamed

),

flagged as (

    select * from {{ flag_versions('checked', ['survey_id']) }}

)

select flagged.*
from flagged
{{- incremental_by_load_written('flagged') }}
