{#- Engine differences, one macro each, DuckDB and Spark side by side (adapter.dispatch). -#}

{#- Replace every match of a regular expression (DuckDB needs the 'g' flag, Spark replaces all). -#}
{% macro regexp_replace_all(expression, pattern, replacement) -%}
    {{ return(adapter.dispatch('regexp_replace_all', 'insight_engine')(expression, pattern, replacement)) }}
{%- endmacro %}

{% macro default__regexp_replace_all(expression, pattern, replacement) -%}
    regexp_replace({{ expression }}, '{{ pattern }}', '{{ replacement }}', 'g')
{%- endmacro %}

{% macro spark__regexp_replace_all(expression, pattern, replacement) -%}
    regexp_replace({{ expression }}, '{{ pattern }}', '{{ replacement }}')
{%- endmacro %}

{#- ISO-8601 text with an offset (or Z) -> timestamp in UTC without time zone; null when unparseable. -#}
{% macro parse_timestamp_utc(expression) -%}
    {{ return(adapter.dispatch('parse_timestamp_utc', 'insight_engine')(expression)) }}
{%- endmacro %}

{% macro default__parse_timestamp_utc(expression) -%}
    timezone('UTC', try_cast({{ expression }} as timestamptz))
{%- endmacro %}

{% macro spark__parse_timestamp_utc(expression) -%}
    try_cast({{ expression }} as timestamp)
{%- endmacro %}

{#- ISO date text -> date; null when unparseable. -#}
{% macro parse_date(expression) -%}
    try_cast({{ expression }} as date)
{%- endmacro %}

{#- A deterministic text key from several columns (nulls kept distinct from empty strings). -#}
{% macro surrogate_key(columns) -%}
    md5(concat_ws('|'
    {%- for col in columns -%}
        , coalesce(cast({{ col }} as {{ dbt.type_string() }}), '<null>')
    {%- endfor -%}
    ))
{%- endmacro %}
