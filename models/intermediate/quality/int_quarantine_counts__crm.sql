{#- One row per crm quarantine table x reason x load date: how many rows staging held back. -#}

with

counted as (
    {{ quarantine_counts('crm', ['cases', 'customers', 'interactions']) }}
)

select * from counted
