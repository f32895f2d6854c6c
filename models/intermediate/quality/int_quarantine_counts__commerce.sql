{#- One row per commerce quarantine table x reason x load date: how many rows staging held back. -#}

with

counted as (
    {{ quarantine_counts(
        'commerce', ['customers', 'order_lines', 'orders', 'products', 'refunds']
    ) }}
)

select * from counted
