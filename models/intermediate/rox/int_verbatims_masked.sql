{#-
    One row per comment: a non-empty answer to an open_text question (response_id, question_id), with
    e-mail addresses and phone numbers masked (macro mask_pii) and the response's language. An empty
    or blank answer is "no comment" and not a row; the text is otherwise kept as written (newlines,
    emoji, quotes). Answers whose response is quarantined are not comments here, as they are not in
    fct_survey_responses either.
-#}

with

answers as (

    select * from {{ ref('stg_survey__answers') }}

),

questions as (

    select * from {{ ref('stg_survey__questions') }}

),

responses as (

    select * from {{ ref('stg_survey__responses') }}

),

open_answers as (

    select
        answers.response_id,
        answers.question_id,
        responses.language_code,
        answers.answer_text
    from answers
    inner join questions
        on answers.question_id = questions.question_id
    inner join responses
        on answers.response_id = responses.response_id
    where
        questions.metric = 'open_text'
        and answers.answer_text is not null
        -- blank in any script (no-break and ideographic spaces too) is no comment
        and {{ regexp_replace_all('answers.answer_text', '[\\s\\pZ]+', '') }} <> ''

),

final as (

    select
        response_id,
        question_id,
        language_code,
        {{ mask_pii('answer_text') }} as comment_text
    from open_answers

)

select * from final
