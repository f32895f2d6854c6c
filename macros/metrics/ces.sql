{#- CES (DESIGN.md section 3): answers 1-7, 7 = very easy; easy = 5-7. -#}

{% macro ces_band(score) -%}
    case
        when {{ score }} between 5 and 7 then 'easy'
        when {{ score }} = 4 then 'neutral'
        when {{ score }} between 1 and 3 then 'difficult'
    end
{%- endmacro %}

{% macro is_ces_easy(score) -%}
    ({{ score }} between 5 and 7)
{%- endmacro %}

{#- % easy = easy answers / all valid answers x 100. -#}
{% macro ces_easy_pct(n_easy, n_answers) -%}
    case when {{ n_answers }} > 0 then 100.0 * cast({{ n_easy }} as double) / {{ n_answers }} end
{%- endmacro %}
