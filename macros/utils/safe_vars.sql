{#-
    dbt vars that are pasted into SQL, checked before any SQL runs (RELIABILITY.md, injection): a number var
    must be a number (or numeric text), a currency three capital letters. Date vars use `_load_date_var`
    (macros/staging/incremental_by_load.sql). insight_engine/inputs.py checks the vars this package passes.
-#}
{% macro number_var(name, default=none) -%}
    {%- set value = var(name) if default is none else var(name, default) -%}
    {%- if value is boolean or value is none -%}
        {{ exceptions.raise_compiler_error("var " ~ name ~ " must be a number, got '" ~ value ~ "'") }}
    {%- elif value is number -%}
        {{ return(value) }}
    {%- elif value is string and modules.re.match('^-?[0-9]+$', value) -%}
        {{ return(value | int) }}
    {%- elif value is string and modules.re.match('^-?[0-9]*[.][0-9]+$', value) -%}
        {{ return(value | float) }}
    {%- endif -%}
    {{ exceptions.raise_compiler_error("var " ~ name ~ " must be a number, got '" ~ value ~ "'") }}
{%- endmacro %}

{% macro currency_var(name) -%}
    {%- set value = var(name) | string -%}
    {%- if not modules.re.match('^[A-Z]{3}$', value) -%}
        {{ exceptions.raise_compiler_error(
            "var " ~ name ~ " must be an ISO 4217 code like USD, got '" ~ value ~ "'") }}
    {%- endif -%}
    {{ return(value) }}
{%- endmacro %}
