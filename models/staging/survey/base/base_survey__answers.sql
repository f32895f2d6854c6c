{{ config(**incremental_by_load_config(['response_id', 'question_id'])) }}

{#-
    Reads the parents' base models (every raw row, bad ones included) for the foreign-key and scale
    checks: an answer is an orphan only when its response or question never arrived at all, not when
    the parent row was quarantined. See DECISIONLOG.md.
    Incremental by load (macros/staging/incremental_by_load.sql): a run rewrites whole loads (load_date),
    so the result equals a full refresh. Versions are ranked by (response_id, question_id). The checks
    read the parents, so rule 5 re-runs them over the rows already built (a response that arrived after
    its answers, a question whose scale changed).
-#}

{%- set row_reason -%}
    case
        when renamed.response_id is null or renamed.question_id is null then 'null_id'
        {{ uncastable_row_reason() }}
        when responses.response_id is null
            or questions.question_id is null
            then 'orphan_fk'
        when renamed.answer_numeric < questions.scale_min
            or renamed.answer_numeric > questions.scale_max
            then 'out_of_range_score'
    end
{%- endset -%}

{%- set row_reason_joins -%}
    left join responses
        on renamed.response_id = responses.response_id
    left join questions
        on renamed.question_id = questions.question_id
{%- endset %}

with

landing as {{ cte_not_materialized() }} (

    -- the landing table as read and renamed (ids cleaned)
    select * from {{ ref('base_survey__answers_landed') }}

),

responses as (

    select distinct response_id
    from {{ ref('base_survey__responses') }}
    where response_id is not null

),

questions as (

    select
        question_id,
        -- scale of the question's latest valid row (at most one row per id has no reason)
        max(case when quarantine_reason is null then scale_min end) as scale_min,
        max(case when quarantine_reason is null then scale_max end) as scale_max
    from {{ ref('base_survey__questions') }}
    where question_id is not null
    group by 1

),
{{ incremental_by_load_scope(
    ['response_id', 'question_id'], reason=row_reason, reason_joins=row_reason_joins
) }}

renamed as (

    select landing.*
    from landing
    {{- incremental_by_load_read(['response_id', 'question_id']) }}

),

checked as (

    select
        renamed.*,
        {{ row_reason }} as row_reason

    from renamed
    {{ row_reason_joins }}

),

flagged as (

    select * from {{ flag_versions('checked', ['response_id', 'question_id']) }}

)

select flagged.*
from flagged
{{- incremental_by_load_written('flagged') }}
