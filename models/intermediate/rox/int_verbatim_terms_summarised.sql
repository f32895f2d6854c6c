{#-
    One row per comment with at least one matched term (int_verbatim_tokens_scored): which themes it
    mentions, how many sentiment terms it has and their mean weight after negation and intensifiers.
    fct_feedback_verbatims joins it to every comment (a comment without a match scores 0).
-#}

with

terms as (

    select * from {{ ref('int_verbatim_tokens_scored') }}

),

final as (

    select
        response_id,
        question_id,
        {% for theme in verbatim_themes() -%}
            count(case when theme = '{{ theme }}' then 1 end) > 0 as mentions_{{ theme }},
        {% endfor -%}
        count(sentiment_weight) as n_sentiment_terms,
        avg(sentiment_weight) as mean_sentiment_weight
    from terms
    group by response_id, question_id

)

select * from final
