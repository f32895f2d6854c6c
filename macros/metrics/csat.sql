{#- CSAT (DESIGN.md section 3): answers 1-5; satisfied = top-2 box (4 or 5). The bands (dissatisfied 1-2,
    neutral 3, satisfied 4-5) are rows of seeds/survey_metric_thresholds.csv, attached with
    join_metric_band(); satisfied is the band of polarity `positive`. -#}

{#- CSAT % = satisfied answers / all valid answers x 100. -#}
{% macro csat_pct(n_satisfied, n_answers) -%}
    case when {{ n_answers }} > 0 then 100.0 * cast({{ n_satisfied }} as double) / {{ n_answers }} end
{%- endmacro %}

{#- 95% margin of error of a share in percentage points: 196 x sqrt(p (1 - p) / n). -#}
{% macro proportion_margin_of_error(n_positive, n_answers) -%}
    case
        when {{ n_answers }} > 0
            then 196.0 * sqrt(
                (cast({{ n_positive }} as double) / {{ n_answers }})
                * (1 - cast({{ n_positive }} as double) / {{ n_answers }})
                / {{ n_answers }}
            )
    end
{%- endmacro %}
