{#- Rows held back per table x quarantine reason x load date, for the quarantine tables of one
    source system (qrn_<system>__<table>): the body of the int_quarantine_counts__<system> models. -#}
{% macro quarantine_counts(system, tables) -%}
    {%- for table in tables %}
    select
        '{{ system }}' as source_system,
        '{{ table }}' as source_table,
        quarantine_reason,
        load_date,
        count(*) as n_rows
    from {{ ref('qrn_' ~ system ~ '__' ~ table) }}
    group by quarantine_reason, load_date
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
{%- endmacro %}
