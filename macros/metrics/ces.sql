{#- CES (DESIGN.md section 3): answers 1-7, 7 = very easy. The bands (difficult 1-3, neutral 4, easy 5-7)
    are rows of seeds/survey_metric_thresholds.csv, attached with join_metric_band(); easy is the band of
    polarity `positive`. -#}

{#- % easy = easy answers / all valid answers x 100. -#}
{% macro ces_easy_pct(n_easy, n_answers) -%}
    case when {{ n_answers }} > 0 then 100.0 * cast({{ n_easy }} as double) / {{ n_answers }} end
{%- endmacro %}

{#- 95% margin of error of a mean score from its sum, sum of squares and n: 1.96 x s / sqrt(n), with s
    the sample standard deviation (0 for a single answer). -#}
{% macro mean_margin_of_error(score_sum, score_sq_sum, n_answers) -%}
    case
        when {{ n_answers }} > 0
            then 1.96 * sqrt(
                coalesce(
                    greatest(
                        {{ score_sq_sum }}
                        - cast({{ score_sum }} as double) * {{ score_sum }} / {{ n_answers }},
                        0
                    ) / nullif({{ n_answers }} - 1, 0),
                    0
                ) / {{ n_answers }}
            )
    end
{%- endmacro %}
