{{ config(**incremental_by_load_config(['question_id'])) }}

{#-
    Incremental by load (macros/staging/incremental_by_load.sql): a run rewrites whole loads (load_date),
    so the result equals a full refresh. Versions are ranked by question_id.
-#}

with

landing as {{ cte_not_materialized() }} (

    select * from {{ read_source('survey', 'questions') }}

),
{{ incremental_by_load_scope(['question_id']) }}

source as (

    select landing.*
    from landing
    {{- incremental_by_load_read(['question_id']) }}

),

renamed as (

    select
        ----------  ids
        {{ clean_text('question_id') }} as question_id,
        {{ clean_text('survey_id') }} as survey_id,

        ----------  strings
        lower({{ clean_text('metric') }}) as metric,
        {{ clean_text('question_text') }} as question_text,

        ----------  numerics (score scale, inclusive; null for open_text)
        scale_min,
        scale_max,

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
            when renamed.question_id is null then 'null_id'
            {{ uncastable_row_reason() }}
            when renamed.metric is null
                or renamed.metric not in ('nps', 'csat', 'ces', 'open_text', 'other')
                then 'invalid_value'
        end as row_reason

    from renamed

),

flagged as (

    select * from {{ flag_versions('checked', ['question_id']) }}

)

select flagged.*
from flagged
{{- incremental_by_load_written('flagged') }}
