{#- Custom schemas are used as they are (staging, core, rox ...), not prefixed with the target schema:
    BI users read `rox.rox_scorecard_daily`, not `main_rox.rox_scorecard_daily`. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
