{#-
    One row per calendar day from var `calendar_start` to var `calendar_end`. The days come from the
    date_spine_days macro, not from a parent model (see DECISIONLOG.md). Weeks start on Monday (ISO).
-#}

with

spine as (

    {{ date_spine_days(_load_date_var('calendar_start'), _load_date_var('calendar_end')) }}

),

calendar as (

    select
        date_day,
        cast({{ dbt.date_trunc('week', 'date_day') }} as date) as week_start_date,
        cast({{ dbt.date_trunc('month', 'date_day') }} as date) as month_start_date,
        cast({{ dbt.date_trunc('quarter', 'date_day') }} as date) as quarter_start_date,
        cast({{ dbt.date_trunc('year', 'date_day') }} as date) as year_start_date,
        cast({{ dbt.dateadd('day', 1, 'date_day') }} as date) as next_date
    from spine

),

weekdays as (

    select
        *,
        -- 0 = Monday ... 6 = Sunday
        {{ dbt.datediff('week_start_date', 'date_day', 'day') }}
            as days_into_week
    from calendar

),

final as (

    select
        date_day,
        cast(
            year(date_day) * 10000 + month(date_day) * 100 + dayofmonth(date_day) as integer
        ) as date_key,
        cast(year(date_day) as integer) as year_number,
        cast(quarter(date_day) as integer) as quarter_number,
        cast(month(date_day) as integer) as month_number,
        cast(dayofmonth(date_day) as integer) as day_of_month,
        cast(dayofyear(date_day) as integer) as day_of_year,
        cast(days_into_week + 1 as integer) as day_of_week,
        days_into_week >= 5 as is_weekend,
        dayofmonth(next_date) = 1 as is_month_end,
        week_start_date,
        month_start_date,
        quarter_start_date,
        year_start_date
    from weekdays

)

select * from final
