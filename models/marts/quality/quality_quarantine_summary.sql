{#- One row per source system, table, quarantine reason and load date: how many rows staging held
    back. The counts come per source system (int_quarantine_counts__<system>, one parent per
    quarantine table each); this model unions the four and tells defects from history. -#}

with

unioned as (

    select * from {{ ref('int_quarantine_counts__commerce') }}
    union all
    select * from {{ ref('int_quarantine_counts__crm') }}
    union all
    select * from {{ ref('int_quarantine_counts__survey') }}
    union all
    select * from {{ ref('int_quarantine_counts__web') }}

),

final as (

    select
        source_system,
        source_table,
        quarantine_reason,
        load_date,
        n_rows,
        quarantine_reason <> 'superseded' as is_defect
    from unioned

)

select * from final
