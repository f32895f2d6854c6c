{#-
    Incremental base models rewrite whole daily loads (`load_date` partitions), never single rows, so an
    incremental run gives the same table as a full refresh (see `models/staging/web/base/base_web__events.sql`).
    How a load is replaced differs per engine:
    * DuckDB: `delete+insert` keyed on `load_date` (the loads in the batch are deleted, then inserted);
    * Spark: `insert_overwrite` of a table partitioned by `load_date` (dynamic partition overwrite; works on
      plain Parquet, where MERGE would need Delta).
-#}
{% macro incremental_by_load_config() -%}
    {{ return(adapter.dispatch('incremental_by_load_config', 'insight_engine')()) }}
{%- endmacro %}

{% macro default__incremental_by_load_config() -%}
    {{ return({
        'materialized': 'incremental',
        'incremental_strategy': 'delete+insert',
        'unique_key': 'load_date',
        'on_schema_change': 'fail',
    }) }}
{%- endmacro %}

{% macro spark__incremental_by_load_config() -%}
    {{ return({
        'materialized': 'incremental',
        'incremental_strategy': 'insert_overwrite',
        'partition_by': ['load_date'],
        'file_format': 'parquet',
        'on_schema_change': 'fail',
    }) }}
{%- endmacro %}

{#- The first load date an incremental run re-reads: `incremental_lookback_days` before the newest load
    already in the table, so a re-delivered recent load is picked up; an empty table starts at the
    beginning. -#}
{% macro incremental_first_load_date() -%}
    coalesce(
        cast({{ dbt.dateadd('day', -1 * var('incremental_lookback_days'), 'max(load_date)') }} as date),
        cast('1900-01-01' as date)
    )
{%- endmacro %}
