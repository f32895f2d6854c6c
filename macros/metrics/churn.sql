{#-
    Churn (DESIGN.md section 3): no order for `churn_days` (default 180) as of `as_of`. A customer whose
    first order is younger than `churn_days` cannot have churned yet: censored, not labelled.
    Returns 'churned' | 'retained' | 'censored' | null (never ordered).
-#}
{% macro churn_status(first_order_at, last_order_at, as_of) -%}
    case
        when {{ first_order_at }} is null then null
        when {{ first_order_at }} > {{ as_of }} - interval '{{ number_var("churn_days", 180) }} days' then 'censored'
        when {{ last_order_at }} <= {{ as_of }} - interval '{{ number_var("churn_days", 180) }} days' then 'churned'
        else 'retained'
    end
{%- endmacro %}
