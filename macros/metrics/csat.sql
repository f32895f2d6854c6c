{#- CSAT (DESIGN.md section 3): answers 1-5; satisfied = top-2 box (4 or 5). -#}

{% macro csat_band(score) -%}
    case
        when {{ score }} between 4 and 5 then 'satisfied'
        when {{ score }} = 3 then 'neutral'
        when {{ score }} between 1 and 2 then 'dissatisfied'
    end
{%- endmacro %}

{#- Top-2 box: 4 or 5. Neutral answers stay in the denominator. -#}
{% macro is_csat_satisfied(score) -%}
    ({{ score }} between 4 and 5)
{%- endmacro %}

{#- CSAT % = satisfied answers / all valid answers x 100. -#}
{% macro csat_pct(n_satisfied, n_answers) -%}
    case when {{ n_answers }} > 0 then 100.0 * cast({{ n_satisfied }} as double) / {{ n_answers }} end
{%- endmacro %}
