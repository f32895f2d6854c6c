{#- A table, not a view: on Spark every read of the view re-planned the regex tokeniser
    (5-30 s a read). -#}
{{ config(materialized='table') }}

{#-
    One row per lexicon match in a comment (response_id, question_id, clause_position,
    token_position): the term, its theme and its sentiment weight after negation. The comment is cut
    into clauses (macro verbatim_clauses: at . , ; : ! ? and line breaks) and the clauses into
    lower-case tokens (macro verbatim_tokens). Tokens are matched to the sentiment_lexicon rows of
    the comment's language and to the language-independent `*` rows (emoji): one-word terms against
    a token, two-word terms against a token and the next one in the same clause. The longest match
    wins: a token inside a matched two-word term ("not bad", "fena değil", "não chegou") is neither
    matched alone nor read as a negator.

    Negation: a sentiment term is negated, and its weight flips sign, when a negator of the
    sentiment_negators seed stands in the same clause within var sentiment_negation_window (3)
    tokens of it, on the side the negator acts on: `following` negators act on what comes after them
    ("not good", "não é bom"), `preceding` ones on what comes before them (Turkish "iyi değil",
    Persian "خوب نبود"). Several negators in scope flip once. Emoji are never negated. Negation fused
    into a word (Turkish beğenmedim, Persian ناراضی) is not found by rule: those forms are lexicon
    entries with their own weight.
-#}

{%- set window = number_var('sentiment_negation_window', 3) %}

with

verbatims as (

    select * from {{ ref('int_verbatims_masked') }}

),

lexicon as (

    select * from {{ ref('sentiment_lexicon') }}

),

-- negators in the lexicon's form too: the hand-written seed has "não" and "nao"
negators as (

    select
        language_code,
        {{ lexicon_form('term', 'language_code') }} as term,
        scope
    from {{ ref('sentiment_negators') }}

),

intensifiers as (

    select * from {{ ref('sentiment_intensifiers') }}

),

clauses as (

    select
        response_id,
        question_id,
        language_code,
        {{ verbatim_clauses('comment_text') }} as clauses
    from verbatims

),

exploded_clauses as (

    {{ explode_with_position(
        'clauses', ['response_id', 'question_id', 'language_code'], 'clauses', 'clause',
        'clause_position'
    ) }}

),

tokenised as (

    select
        response_id,
        question_id,
        language_code,
        clause_position,
        {{ verbatim_tokens('clause') }} as tokens
    from exploded_clauses

),

exploded_tokens as (

    {{ explode_with_position(
        'tokenised', ['response_id', 'question_id', 'language_code', 'clause_position'], 'tokens',
        'token', 'token_position'
    ) }}

),

-- tokens in the lexicon's form for their language (Portuguese without accents: macro lexicon_form)
lexicon_form_tokens as (

    select
        response_id,
        question_id,
        language_code,
        clause_position,
        token_position,
        {{ lexicon_form('token', 'language_code') }} as token
    from exploded_tokens
    where token <> ''

),

tokens as (

    select
        response_id,
        question_id,
        language_code,
        clause_position,
        token_position,
        token,
        lead(token) over (
            partition by response_id, question_id, clause_position order by token_position
        ) as next_token
    from lexicon_form_tokens

),

term_candidates as (

    select
        tokens.response_id,
        tokens.question_id,
        tokens.language_code,
        tokens.clause_position,
        tokens.token_position as start_position,
        tokens.token_position as end_position,
        lexicon.term,
        lexicon.theme,
        lexicon.sentiment_weight,
        lexicon.language_code = '*' as is_universal_term
    from tokens
    inner join lexicon
        on
            tokens.token = lexicon.term
            and lexicon.language_code in (tokens.language_code, '*')

    union all

    select
        tokens.response_id,
        tokens.question_id,
        tokens.language_code,
        tokens.clause_position,
        tokens.token_position as start_position,
        tokens.token_position + 1 as end_position,
        lexicon.term,
        lexicon.theme,
        lexicon.sentiment_weight,
        lexicon.language_code = '*' as is_universal_term
    from tokens
    inner join lexicon
        on
            tokens.token || ' ' || tokens.next_token = lexicon.term
            and lexicon.language_code in (tokens.language_code, '*')
    where tokens.next_token is not null

),

two_word_matches as (

    select
        response_id,
        question_id,
        clause_position,
        start_position,
        end_position
    from term_candidates
    where end_position > start_position

),

-- the longest match wins: single tokens inside a matched two-word term are dropped. The one-word
-- test stays out of the join condition: a condition on one side only made DuckDB plan a nested-loop
-- join (every candidate against every two-word match: 472 s at scale l, issue 13)
one_word_matches as (

    select term_candidates.*
    from term_candidates
    left join two_word_matches
        on
            term_candidates.response_id = two_word_matches.response_id
            and term_candidates.question_id = two_word_matches.question_id
            and term_candidates.clause_position = two_word_matches.clause_position
            and term_candidates.start_position
            between two_word_matches.start_position and two_word_matches.end_position
    where
        term_candidates.end_position = term_candidates.start_position
        and two_word_matches.response_id is null

),

matches as (

    select * from one_word_matches

    union all

    select * from term_candidates
    where end_position > start_position

),

-- tokens outside any matched two-word term: a negator or intensifier inside an idiom ("not bad") is
-- part of the idiom, not a modifier
free_tokens as (

    select tokens.*
    from tokens
    left join two_word_matches
        on
            tokens.response_id = two_word_matches.response_id
            and tokens.question_id = two_word_matches.question_id
            and tokens.clause_position = two_word_matches.clause_position
            and tokens.token_position
            between two_word_matches.start_position and two_word_matches.end_position
    where two_word_matches.response_id is null

),

negator_tokens as (

    select
        free_tokens.response_id,
        free_tokens.question_id,
        free_tokens.clause_position,
        free_tokens.token_position,
        negators.scope
    from free_tokens
    inner join negators
        on
            free_tokens.token = negators.term
            and free_tokens.language_code = negators.language_code

),

negated as (

    select
        matches.response_id,
        matches.question_id,
        matches.clause_position,
        matches.start_position
    from matches
    inner join negator_tokens
        on
            matches.response_id = negator_tokens.response_id
            and matches.question_id = negator_tokens.question_id
            and matches.clause_position = negator_tokens.clause_position
            and (
                (
                    negator_tokens.scope = 'following'
                    and negator_tokens.token_position
                    between matches.start_position - {{ window }} and matches.start_position - 1
                )
                or (
                    negator_tokens.scope = 'preceding'
                    and negator_tokens.token_position
                    between matches.end_position + 1 and matches.end_position + {{ window }}
                )
            )
    where matches.sentiment_weight is not null and not matches.is_universal_term
    group by
        matches.response_id,
        matches.question_id,
        matches.clause_position,
        matches.start_position

),

intensifier_tokens as (

    select
        free_tokens.response_id,
        free_tokens.question_id,
        free_tokens.clause_position,
        free_tokens.token_position,
        intensifiers.multiplier
    from free_tokens
    inner join intensifiers
        on
            free_tokens.token = intensifiers.term
            and free_tokens.language_code = intensifiers.language_code

),

-- an intensifier right before a sentiment term scales its weight ("very good", "muito ruim")
intensified as (

    select
        matches.response_id,
        matches.question_id,
        matches.clause_position,
        matches.start_position,
        intensifier_tokens.multiplier
    from matches
    inner join intensifier_tokens
        on
            matches.response_id = intensifier_tokens.response_id
            and matches.question_id = intensifier_tokens.question_id
            and matches.clause_position = intensifier_tokens.clause_position
            and intensifier_tokens.token_position = matches.start_position - 1
    where matches.sentiment_weight is not null and not matches.is_universal_term

),

-- the weight after negation (sign flipped) and intensification (times the multiplier)
adjusted as (

    select
        matches.response_id,
        matches.question_id,
        matches.language_code,
        matches.term,
        matches.theme,
        matches.clause_position,
        matches.start_position,
        matches.end_position,
        matches.sentiment_weight as lexicon_weight,
        negated.start_position is not null as is_negated,
        coalesce(intensified.multiplier, 1.0) as intensity_multiplier,
        case
            when negated.start_position is not null then -1 * matches.sentiment_weight
            else matches.sentiment_weight
        end * coalesce(intensified.multiplier, 1.0) as adjusted_weight
    from matches
    left join negated
        on
            matches.response_id = negated.response_id
            and matches.question_id = negated.question_id
            and matches.clause_position = negated.clause_position
            and matches.start_position = negated.start_position
    left join intensified
        on
            matches.response_id = intensified.response_id
            and matches.question_id = intensified.question_id
            and matches.clause_position = intensified.clause_position
            and matches.start_position = intensified.start_position

),

final as (

    select
        response_id,
        question_id,
        language_code,
        term,
        theme,
        cast(clause_position as integer) as clause_position,
        cast(start_position as integer) as token_position,
        cast(end_position - start_position + 1 as integer) as n_term_tokens,
        lexicon_weight,
        -- kept within -1..1; a theme-only term (null weight) stays null
        case
            when adjusted_weight > 1.0 then 1.0
            when adjusted_weight < -1.0 then -1.0
            else adjusted_weight
        end as sentiment_weight,
        is_negated,
        cast(intensity_multiplier as double) as intensity_multiplier
    from adjusted

)

select * from final
