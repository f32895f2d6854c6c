{#- CES (DESIGN.md section 3): answers 1-7, 7 = very easy. The bands (difficult 1-3, neutral 4, easy 5-7)
    are rows of seeds/survey_metric_thresholds.csv, attached with join_metric_band(); easy is the band of
    polarity `positive`. -#}

{#- % easy = easy answers / all valid answers x 100. -#}
{% macro ces_easy_pct(n_easy, n_answers) -%}
    case when {{ n_answers }} > 0 then 100.0 * cast({{ n_easy }} as double) / {{ n_answers }} end
{%- endmacro %}
