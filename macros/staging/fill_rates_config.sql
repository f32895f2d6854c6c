{#- The materialization of stg_landing__column_fill_rates: incremental by load on DuckDB; a table on Spark,
    where each of the model's 14 table CTEs would plan the load filter's subquery (14 landing listings)
    again; with a reference per column (121) the incremental run did not finish (DECISIONLOG.md). -#}
{% macro fill_rates_config() -%}
    {{ return(adapter.dispatch('fill_rates_config', 'insight_engine')()) }}
{%- endmacro %}

{% macro default__fill_rates_config() -%}
    {{ return(incremental_by_load_config()) }}
{%- endmacro %}

{% macro spark__fill_rates_config() -%}
    {{ return({'materialized': 'table'}) }}
{%- endmacro %}
