{#-
    Money (DESIGN.md section 3). Net revenue = lines x unit price - discounts - refunds, in the reporting
    currency at the rate of the order month; cancelled orders count zero. Gross margin = net revenue -
    unit cost x quantity.
-#}

{#- Local amount -> reporting currency, given both currencies' units per USD for the order month. -#}
{% macro to_reporting_currency(local_amount, local_units_per_usd, reporting_units_per_usd) -%}
    cast(
        {{ local_amount }} / nullif({{ local_units_per_usd }}, 0) * {{ reporting_units_per_usd }}
        as decimal(18, 2)
    )
{%- endmacro %}

{#- Net revenue of a line or an order, in whatever currency its inputs are in. -#}
{% macro net_revenue(gross_amount, discount_amount, refund_amount, is_cancelled) -%}
    case
        when {{ is_cancelled }} then cast(0 as decimal(18, 2))
        else cast(
            {{ gross_amount }} - coalesce({{ discount_amount }}, 0) - coalesce({{ refund_amount }}, 0)
            as decimal(18, 2)
        )
    end
{%- endmacro %}

{#- Gross margin: net revenue less cost of goods; null when the cost is unknown (never a fake 0). -#}
{% macro gross_margin(net_revenue_amount, cost_amount, is_cancelled) -%}
    case
        when {{ is_cancelled }} then cast(0 as decimal(18, 2))
        else cast({{ net_revenue_amount }} - {{ cost_amount }} as decimal(18, 2))
    end
{%- endmacro %}
