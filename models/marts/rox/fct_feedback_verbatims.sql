{#-
    One row per comment (a non-empty answer to an open-text question): the masked text with its
    language, the themes it mentions and its lexicon sentiment, next to the NPS answer and context of
    the same response. Sentiment score = mean of the matched sentiment terms' weights after negation
    (int_verbatim_tokens_scored, summarised per comment by int_verbatim_terms_summarised), 0 when the
    comment has none.
-#}

with

verbatims as (

    select * from {{ ref('int_verbatims_masked') }}

),

term_stats as (

    select * from {{ ref('int_verbatim_terms_summarised') }}

),

responses as (

    select * from {{ ref('fct_survey_responses') }}

),

scored as (

    select
        verbatims.response_id,
        verbatims.question_id,
        verbatims.language_code,
        verbatims.comment_text,
        {% for theme in verbatim_themes() -%}
            coalesce(term_stats.mentions_{{ theme }}, false) as mentions_{{ theme }},
        {% endfor -%}
        coalesce(term_stats.n_sentiment_terms, 0) as n_sentiment_terms,
        coalesce({{ round_half_up('term_stats.mean_sentiment_weight', 4) }}, 0.0) as sentiment_score
    from verbatims
    left join term_stats
        on
            verbatims.response_id = term_stats.response_id
            and verbatims.question_id = term_stats.question_id

),

final as (

    select
        {{ surrogate_key(['scored.response_id', 'scored.question_id']) }} as verbatim_key,
        scored.response_id,
        scored.question_id,
        responses.customer_key,
        responses.survey_id,
        responses.touchpoint_id,
        responses.journey_stage,
        scored.language_code,
        scored.comment_text,
        -- the themes in alphabetical order, comma-separated; null when none is mentioned
        nullif(
            concat_ws(
                ',',
                {% for theme in verbatim_themes() -%}
                    case when scored.mentions_{{ theme }} then '{{ theme }}' end
                    {{- "," if not loop.last }}
                {% endfor -%}
            ),
            ''
        ) as themes,
        {{ sentiment_label('scored.sentiment_score') }} as sentiment_label,
        responses.nps_group,
        responses.csat_band,
        responses.ces_band,
        cast(scored.n_sentiment_terms as integer) as n_sentiment_terms,
        cast(scored.sentiment_score as double) as sentiment_score,
        responses.nps_score,
        responses.csat_score,
        responses.ces_score,
        {% for theme in verbatim_themes() -%}
            scored.mentions_{{ theme }},
        {% endfor -%}
        responses.submitted_date,
        responses.submitted_at
    from scored
    left join responses
        on scored.response_id = responses.response_id

)

select * from final
