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

{#- Which loads an incremental run rewrites (besides older loads sharing ids with them, see the model):
    * by default every load from `incremental_lookback_days` before the newest load already in the table
      (a re-delivered recent load is picked up); an empty table starts at the beginning;
    * var `incremental_from_load_date` (`insight-engine run --since D`): every load from D on;
    * vars `incremental_from_load_date` = `incremental_to_load_date` (`--load-date D`): load D only.
    Loads newer than the newest one already in the table, and loads it has never read (however old: a
    late or out-of-order delivery), are always taken, so no choice leaves a gap.
    A first build or `--full-refresh` reads every load whatever the vars say. -#}
{% macro incremental_first_load_date() -%}
    {%- set chosen = _load_date_var('incremental_from_load_date') -%}
    {%- if chosen -%}
        cast('{{ chosen }}' as date)
    {%- else -%}
        coalesce(
            cast({{ dbt.dateadd('day', -1 * number_var('incremental_lookback_days'), 'max(load_date)') }} as date),
            cast('1900-01-01' as date)
        )
    {%- endif -%}
{%- endmacro %}

{% macro incremental_last_load_date() -%}
    cast('{{ _load_date_var("incremental_to_load_date") or "9999-12-31" }}' as date)
{%- endmacro %}

{#- True for a load the run rewrites; needs the model's `cutoff` CTE (first, last and newest load date)
    and its `unseen_loads` CTE (landing loads the table has never read: a load delivered out of order,
    older than the lookback window, is still taken, whatever the vars choose). -#}
{% macro incremental_load_selected(column) -%}
    ({{ column }} between (select cutoff.first_load_date from cutoff) and (select cutoff.last_load_date from cutoff)
        or {{ column }} > (select cutoff.newest_load_date from cutoff)
        or {{ column }} in (select unseen_loads.load_date from unseen_loads))
{%- endmacro %}

{#- A load-date var as 'YYYY-MM-DD', or none; anything else stops the build before any SQL runs. -#}
{% macro _load_date_var(name) -%}
    {%- set value = var(name, none) -%}
    {%- if value is none or value == '' -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set text = value | string -%}
    {%- if not modules.re.match('^[0-9]{4}-[0-9]{2}-[0-9]{2}$', text) -%}
        {{ exceptions.raise_compiler_error("var " ~ name ~ " must be a date YYYY-MM-DD, got '" ~ text ~ "'") }}
    {%- endif -%}
    {{ return(text) }}
{%- endmacro %}
