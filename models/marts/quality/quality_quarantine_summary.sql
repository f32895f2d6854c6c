-- noqa: disable=LT02
{#- One row per source system, table, quarantine reason and load date: how many rows staging held
    back.
    The union over every quarantine model is the point of this model, so it has one parent per table
    (DECISIONLOG.md). -#}

{%- set quarantined = [
    ('commerce', 'customers'), ('commerce', 'order_lines'), ('commerce', 'orders'),
    ('commerce', 'products'), ('commerce', 'refunds'),
    ('crm', 'cases'), ('crm', 'customers'), ('crm', 'interactions'),
    ('survey', 'answers'), ('survey', 'invitations'), ('survey', 'questions'),
    ('survey', 'responses'), ('survey', 'surveys'),
    ('web', 'events'),
] %}

with

unioned as (

    {%- for system, table in quarantined %}

    select
        '{{ system }}' as source_system,
        '{{ table }}' as source_table,
        quarantine_reason,
        load_date
    from {{ ref('qrn_' ~ system ~ '__' ~ table) }}
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}

),

final as (

    select
        source_system,
        source_table,
        quarantine_reason,
        load_date,
        count(*) as n_rows,
        quarantine_reason <> 'superseded' as is_defect
    from unioned
    group by source_system, source_table, quarantine_reason, load_date

)

select * from final
