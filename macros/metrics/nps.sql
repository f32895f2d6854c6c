{#- NPS (DESIGN.md section 3). Valid answers are integers 0-10 to questions whose metric is `nps`. -#}

{#- The groups (promoter 9-10, passive 7-8, detractor 0-6) are rows of seeds/survey_metric_thresholds.csv,
    attached with join_metric_band() (macros/metrics/survey.sql). -#}

{#- 100 x (promoters - detractors) / valid answers; null when there are none. Shares and scores are
    computed in double on every engine (Spark would keep a decimal of scale 6), see DECISIONLOG.md. -#}
{% macro nps_score(n_promoters, n_detractors, n_answers) -%}
    case
        when {{ n_answers }} > 0
            then 100.0 * cast({{ n_promoters }} - {{ n_detractors }} as double) / {{ n_answers }}
    end
{%- endmacro %}

{#- 95% margin of error in NPS points: 196 x sqrt((p + d - (p - d)^2) / n), p and d the shares. -#}
{% macro nps_margin_of_error(n_promoters, n_detractors, n_answers) -%}
    case
        when {{ n_answers }} > 0
            then 196.0 * sqrt(
                (
                    cast({{ n_promoters }} as double) / {{ n_answers }}
                    + cast({{ n_detractors }} as double) / {{ n_answers }}
                    - power(cast({{ n_promoters }} - {{ n_detractors }} as double) / {{ n_answers }}, 2)
                ) / {{ n_answers }}
            )
    end
{%- endmacro %}

{#- Fewer than `nps_low_confidence_n` answers (default 30): flag the estimate as low confidence. -#}
{% macro is_low_confidence(n_answers) -%}
    ({{ n_answers }} < {{ number_var('nps_low_confidence_n', 30) }})
{%- endmacro %}
