{#-
    Money (DESIGN.md section 3). Net revenue = lines x unit price - discounts - refunds, in the reporting
    currency at the rate of the order month; cancelled orders count zero. Gross margin = net revenue -
    unit cost x quantity.
-#}

{#-
    A computed amount (double) -> money, rounded half up to the cent the same way on every engine. A
    direct double -> decimal(18, 2) cast does not: DuckDB rounds the binary value (1.005 is
    1.00499999... -> 1.00) while Spark rounds its shortest decimal form (1.005 -> 1.01). Going through
    decimal(38, 10) first gives both engines the same decimal, then the same half-up rounding.
-#}
{% macro round_to_cents(expression) -%}
    {{ return(adapter.dispatch('round_to_cents', 'insight_engine')(expression)) }}
{%- endmacro %}

{% macro default__round_to_cents(expression) -%}
    cast(cast({{ expression }} as decimal(38, 10)) as decimal(18, 2))
{%- endmacro %}

{#- DuckDB: the same value, through a 64-bit decimal(18, 10) where it fits (macro `exact_decimal_fits`). -#}
{% macro duckdb__round_to_cents(expression) -%}
    case
        when {{ exact_decimal_fits(expression) }}
            then cast(cast({{ expression }} as decimal(18, 10)) as decimal(18, 2))
        else cast(cast({{ expression }} as decimal(38, 10)) as decimal(18, 2))
    end
{%- endmacro %}

{#-
    Local amount -> reporting currency, given both currencies' units per USD for the order month.
    Computed in double on every engine (DuckDB divides decimals in double anyway; Spark would keep a
    decimal of scale 6), then rounded to the cent.
-#}
{% macro to_reporting_currency(local_amount, local_units_per_usd, reporting_units_per_usd) -%}
    {{ round_to_cents(
        'cast(' ~ local_amount ~ ' as double) / nullif(cast(' ~ local_units_per_usd ~ ' as double), 0)'
        ~ ' * cast(' ~ reporting_units_per_usd ~ ' as double)'
    ) }}
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

{#-
    Whether the export measures cost at all: some non-cancelled order of `orders` (fct_orders or a CTE
    over it) has a known cost. Without it every margin is null, even the 0 of a customer without orders
    or with cancelled orders only (those are known zeros only when costs are measured).
-#}
{% macro cost_is_measured(orders) -%}
    ((select count(*) from {{ orders }} where not {{ orders }}.is_cancelled and {{ orders }}.cost_amount is not null) > 0)
{%- endmacro %}
