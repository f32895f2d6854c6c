{#-
    One row per calendar day from `start_date` to `end_date` (both inclusive, ISO date text), in a
    single column `date_day` of type date. Used by dim_date; the spine is generated, so the model has
    no parent (see DECISIONLOG.md).

    Named `date_spine_days`, not `date_spine`, so that its `default__` implementation can never shadow
    dbt's own `default__date_spine(datepart, start_date, end_date)`, which has another signature.
-#}
{% macro date_spine_days(start_date, end_date) -%}
    {{ return(adapter.dispatch('date_spine_days', 'insight_engine')(start_date, end_date)) }}
{%- endmacro %}

{#- DuckDB (and the default): generate_series includes both ends. -#}
{% macro default__date_spine_days(start_date, end_date) -%}
    select cast(unnest(generate_series(
        cast('{{ start_date }}' as date),
        cast('{{ end_date }}' as date),
        interval 1 day
    )) as date) as date_day
{%- endmacro %}

{#- Spark: sequence() builds the array of dates (both ends included), explode() makes it rows. -#}
{% macro spark__date_spine_days(start_date, end_date) -%}
    select explode(sequence(
        to_date('{{ start_date }}'),
        to_date('{{ end_date }}'),
        interval 1 day
    )) as date_day
{%- endmacro %}
