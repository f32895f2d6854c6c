{#-
    In rox_experience_value the groups of one metric in one slice (segment x industry_vertical x
    cohort, rollups included) share its answers and its customers: share_pct and customer_share_pct
    each add up to 100, within 0.01. Returns the slices that do not.
-#}

with

rox_experience_value as (

    select * from {{ ref('rox_experience_value') }}

),

slice_totals as (

    select
        experience_metric,
        segment,
        industry_vertical,
        cohort,
        sum(share_pct) as total_share_pct,
        sum(customer_share_pct) as total_customer_share_pct
    from rox_experience_value
    group by experience_metric, segment, industry_vertical, cohort

),

final as (

    select
        experience_metric,
        segment,
        industry_vertical,
        cohort,
        total_share_pct,
        total_customer_share_pct
    from slice_totals
    where
        abs(total_share_pct - 100) > 0.01
        or abs(total_customer_share_pct - 100) > 0.01
        or total_share_pct is null
        or total_customer_share_pct is null

)

select * from final
