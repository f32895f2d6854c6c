{#-
    One row per contract table x column: how full each column of each export is, overall, in the newest
    load and in the loads before it, and a warning when a column is never filled or emptied in the newest
    load (its fill rate fell below half of the earlier loads', on at least 30 rows). An optional column that an export does not
    fill never blocks a run: it shows here (and in the raw gate's results) so its owner sees it.
-#}

with

fills as (

    select * from {{ ref('stg_landing__column_fill_rates') }}

),

newest as (

    select
        source_system,
        source_table,
        max(load_date) as newest_load_date
    from fills
    group by source_system, source_table

),

summed as (

    select
        fills.source_system,
        fills.source_table,
        fills.column_name,
        fills.is_required,
        newest.newest_load_date,
        count(*) as n_loads,
        sum(fills.n_rows) as n_rows,
        sum(fills.n_filled) as n_filled,
        sum(case when fills.load_date = newest.newest_load_date then fills.n_rows end)
            as newest_rows,
        sum(case when fills.load_date = newest.newest_load_date then fills.n_filled end)
            as newest_filled,
        sum(case when fills.load_date < newest.newest_load_date then fills.n_rows end)
            as earlier_rows,
        sum(case when fills.load_date < newest.newest_load_date then fills.n_filled end)
            as earlier_filled
    from fills
    inner join newest
        on
            fills.source_system = newest.source_system
            and fills.source_table = newest.source_table
    group by
        fills.source_system,
        fills.source_table,
        fills.column_name,
        fills.is_required,
        newest.newest_load_date

),

rated as (

    select
        *,
        100.0 * cast(n_filled as double) / nullif(n_rows, 0) as fill_rate_pct,
        100.0 * cast(newest_filled as double) / nullif(newest_rows, 0) as newest_load_fill_rate_pct,
        100.0 * cast(earlier_filled as double) / nullif(earlier_rows, 0)
            as earlier_loads_fill_rate_pct
    from summed

),

final as (

    select
        source_system,
        source_table,
        column_name,
        is_required,
        cast(n_loads as bigint) as n_loads,
        cast(n_rows as bigint) as n_rows,
        cast(n_filled as bigint) as n_filled,
        {{ round_half_up('fill_rate_pct', 2) }} as fill_rate_pct,
        newest_load_date,
        {{ round_half_up('newest_load_fill_rate_pct', 2) }} as newest_load_fill_rate_pct,
        {{ round_half_up('earlier_loads_fill_rate_pct', 2) }} as earlier_loads_fill_rate_pct,
        {{ round_half_up('newest_load_fill_rate_pct - earlier_loads_fill_rate_pct', 2) }}
            as fill_rate_change_pct_points,
        case
            when n_filled = 0 then 'never_filled'
            -- a newest load of a handful of rows says little: 30 rows before a drop is reported
            when newest_rows >= 30 and newest_load_fill_rate_pct < earlier_loads_fill_rate_pct / 2
                then 'fill_dropped'
        end as fill_warning
    from rated

)

select * from final
