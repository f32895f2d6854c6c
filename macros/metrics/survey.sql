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

{#-
    A count that is null, not 0, when the system that feeds it delivered nothing at all: with no CRM
    cases in the export, "0 cases" would claim a measurement nobody made. `measured_relation` is the
    model (or CTE) whose rows are that system's data.
-#}
{% macro count_if_measured(count_expression, measured_relation) -%}
    case
        when (select count(*) from {{ measured_relation }}) > 0 then coalesce({{ count_expression }}, 0)
    end
{%- endmacro %}
