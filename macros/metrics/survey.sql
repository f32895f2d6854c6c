{#- A numeric answer counts for `metric` only when it is a whole number inside the metric's scale. -#}
{% macro is_valid_metric_answer(metric, score) -%}
    (
        {{ score }} is not null
        and {{ score }} = floor({{ score }})
        and (
            ({{ metric }} = 'nps' and {{ score }} between 0 and 10)
            or ({{ metric }} = 'csat' and {{ score }} between 1 and 5)
            or ({{ metric }} = 'ces' and {{ score }} between 1 and 7)
        )
    )
{%- endmacro %}

{#- Response rate % = responses / delivered invitations x 100. -#}
{% macro response_rate_pct(n_responses, n_delivered) -%}
    case when {{ n_delivered }} > 0 then 100.0 * cast({{ n_responses }} as double) / {{ n_delivered }} end
{%- endmacro %}
