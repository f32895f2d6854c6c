{#- One row per web quarantine table x reason x load date: how many rows staging held back. -#}

with

counted as (
    {{ quarantine_counts('web', ['events']) }}
)

select * from counted
