{#- The materialization of stg_landing__column_fill_rates: incremental by load on DuckDB; a table on Spark,
    where the model's 121 references to its per-table CTEs are each planned with the load filter's
    subquery (14 landing reads), and the incremental run did not finish (DECISIONLOG.md). -#}
{% macro fill_rates_config() -%}
    {{ return(adapter.dispatch('fill_rates_config', 'insight_engine')()) }}
{%- endmacro %}

{% macro default__fill_rates_config() -%}
    {{ return(incremental_by_load_config()) }}
{%- endmacro %}

{% macro spark__fill_rates_config() -%}
    {{ return({'materialized': 'table'}) }}
{%- endmacro %}
