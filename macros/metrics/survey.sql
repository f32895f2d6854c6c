{#-
    Score bands come from one place, seeds/survey_metric_thresholds.csv: one row per metric and band with
    its score range, the metric's scale, the band's polarity (positive: promoter / satisfied / easy;
    negative: detractor / dissatisfied / difficult) and whether an answer in it needs a follow-up (closed
    loop). Change a range there and every model moves with it.
-#}

{#- A left join of the band `score` falls in for `metric`, as `alias` (alias.band, alias.polarity,
    alias.needs_follow_up); no row for a null or out-of-scale score. -#}
{% macro join_metric_band(metric, score, alias) -%}
    left join {{ ref('survey_metric_thresholds') }} as {{ alias }}
        on
            {{ alias }}.metric = '{{ metric }}'
            and {{ score }} between {{ alias }}.min_score and {{ alias }}.max_score
{%- endmacro %}

{#- A numeric answer counts only when it is a whole number inside its metric's scale (the seed's
    scale_min .. scale_max for that metric). -#}
{% macro is_valid_metric_answer(score, scale_min, scale_max) -%}
    (
        {{ score }} is not null
        and {{ score }} = floor({{ score }})
        and {{ score }} between {{ scale_min }} and {{ scale_max }}
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
