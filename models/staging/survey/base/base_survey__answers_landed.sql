{{ config(materialized='ephemeral') }}

{#-
    The answers landing table as read and renamed, before any check: base_survey__answers reads it
    beside the parents' base models (the foreign-key and scale checks), so the landing table is read in
    one place and the checks never join a source directly. Ephemeral: inlined into its one reader.
-#}

with

source as (

    select * from {{ read_source('survey', 'answers') }}

),

renamed as (

    select
        ----------  ids
        {{ clean_text('response_id') }} as response_id,
        {{ clean_text('question_id') }} as question_id,

        ----------  strings (empty or blank verbatim -> null)
        {{ clean_text('answer_text') }} as answer_text,

        ----------  numerics
        answer_numeric,

        ----------  load metadata
        _uncastable_columns,
        _loaded_at,
        load_date

    from source

)

select * from renamed
