{#- One row per survey quarantine table x reason x load date: how many rows staging held back. -#}

with

counted as (
    {{ quarantine_counts(
        'survey', ['answers', 'invitations', 'questions', 'responses', 'surveys']
    ) }}
)

select * from counted
