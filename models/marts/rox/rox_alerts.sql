{#-
    One row per alert: a sustained drop of NPS (nps_drop), of CSAT % (csat_drop) or of the mean CES, i.e.
    an effort spike (effort_spike), for a segment or a touchpoint: a CSAT-only or CES-only programme is
    watched as closely as an NPS one. Each day, the 30 days ending that day (current
    window) are compared with the 90 days before them (baseline), from the scorecard's additive
    counts. A day is a breach when the current value is below the baseline by more than the margin of
    error of the difference taken at z = var alert_z (default 3.29) and both windows have at least
    var nps_low_confidence_n answers. A streak of var alert_min_days consecutive breach days (default
    7) raises one alert, dated on the day the streak reaches that length. Segment comparisons are made
    touchpoint by touchpoint (the baseline is re-weighted to the current window's touchpoint mix), so
    a change in which surveys a segment answered is not read as a change in experience. Reasoning and
    measured false-positive rates: DECISIONLOG.md.
-#}

{%- set current_days = number_var('alert_current_days', 30) %}
{%- set baseline_days = number_var('alert_baseline_days', 90) %}
{%- set min_n = number_var('nps_low_confidence_n', 30) %}
{%- set min_days = number_var('alert_min_days', 7) %}
{%- set z_factor = number_var('alert_z', 3.29) / 1.96 %}
{%- set summed = [
    'n_nps', 'n_promoters', 'n_detractors', 'n_csat', 'n_csat_satisfied',
    'n_ces', 'ces_score_sum', 'ces_score_sq_sum'
] %}

with

rox_scorecard_daily as (

    select * from {{ ref('rox_scorecard_daily') }}

),

-- daily counts per dimension value and touchpoint (the stratum the comparison is made within);
-- the catch-all segment 'unknown' is not alerted on (see DECISIONLOG.md)
strata_days as (

    select
        'segment' as dimension,
        segment as dimension_value,
        touchpoint_id as stratum,
        date_day,
        sum(n_nps) as n_nps,
        sum(n_promoters) as n_promoters,
        sum(n_detractors) as n_detractors,
        sum(n_csat) as n_csat,
        sum(n_csat_satisfied) as n_csat_satisfied,
        sum(n_ces) as n_ces,
        sum(ces_score_sum) as ces_score_sum,
        sum(ces_score_sq_sum) as ces_score_sq_sum
    from rox_scorecard_daily
    where segment != 'unknown'
    group by 1, 2, 3, 4

    union all

    select
        'touchpoint' as dimension,
        touchpoint_id as dimension_value,
        touchpoint_id as stratum,
        date_day,
        sum(n_nps) as n_nps,
        sum(n_promoters) as n_promoters,
        sum(n_detractors) as n_detractors,
        sum(n_csat) as n_csat,
        sum(n_csat_satisfied) as n_csat_satisfied,
        sum(n_ces) as n_ces,
        sum(ces_score_sum) as ces_score_sum,
        sum(ces_score_sq_sum) as ces_score_sq_sum
    from rox_scorecard_daily
    where touchpoint_id != 'unknown'
    group by 1, 2, 3, 4

),

-- window sums: the scorecard's spine has no gaps, so N rows are N days
windowed as (

    select
        dimension,
        dimension_value,
        stratum,
        date_day,
        {%- for col in summed %}
            sum({{ col }}) over (
                partition by dimension, dimension_value, stratum
                order by date_day
                rows between {{ current_days - 1 }} preceding and current row
            ) as {{ col }}_current,
            sum({{ col }}) over (
                partition by dimension, dimension_value, stratum
                order by date_day
                rows between {{ current_days + baseline_days - 1 }} preceding
                and {{ current_days }} preceding
            ) as {{ col }}_baseline,
        {%- endfor %}
        row_number() over (
            partition by dimension, dimension_value, stratum
            order by date_day
        ) as day_number
    from strata_days

),

-- one row per metric, stratum and day where both windows have answers
strata_metrics as (

    select
        'nps_drop' as alert_type,
        'nps' as metric_name,
        dimension,
        dimension_value,
        stratum,
        date_day,
        day_number,
        n_nps_current as n_current,
        n_nps_baseline as n_baseline,
        {{ nps_score('n_promoters_current', 'n_detractors_current', 'n_nps_current') }}
            as current_value,
        {{ nps_score('n_promoters_baseline', 'n_detractors_baseline', 'n_nps_baseline') }}
            as baseline_value,
        {{ nps_margin_of_error('n_promoters_current', 'n_detractors_current', 'n_nps_current') }}
            as current_moe,
        {{ nps_margin_of_error('n_promoters_baseline', 'n_detractors_baseline', 'n_nps_baseline') }}
            as baseline_moe
    from windowed
    where n_nps_current > 0 and n_nps_baseline > 0

    union all

    -- CSAT %: a share, so its 95% margin of error is that of a proportion, in percentage points
    select
        'csat_drop' as alert_type,
        'csat_pct' as metric_name,
        dimension,
        dimension_value,
        stratum,
        date_day,
        day_number,
        n_csat_current as n_current,
        n_csat_baseline as n_baseline,
        {{ csat_pct('n_csat_satisfied_current', 'n_csat_current') }} as current_value,
        {{ csat_pct('n_csat_satisfied_baseline', 'n_csat_baseline') }} as baseline_value,
        {{ proportion_margin_of_error('n_csat_satisfied_current', 'n_csat_current') }}
            as current_moe,
        {{ proportion_margin_of_error('n_csat_satisfied_baseline', 'n_csat_baseline') }}
            as baseline_moe
    from windowed
    where n_csat_current > 0 and n_csat_baseline > 0

    union all

    -- CES: 1-7, 7 = very easy, so an effort spike is a fall of the mean; MoE from the variance
    select
        'effort_spike' as alert_type,
        'ces_mean' as metric_name,
        dimension,
        dimension_value,
        stratum,
        date_day,
        day_number,
        n_ces_current as n_current,
        n_ces_baseline as n_baseline,
        cast(ces_score_sum_current as double) / n_ces_current as current_value,
        cast(ces_score_sum_baseline as double) / n_ces_baseline as baseline_value,
        {{ mean_margin_of_error(
            'ces_score_sum_current', 'ces_score_sq_sum_current', 'n_ces_current'
        ) }} as current_moe,
        {{ mean_margin_of_error(
            'ces_score_sum_baseline', 'ces_score_sq_sum_baseline', 'n_ces_baseline'
        ) }} as baseline_moe
    from windowed
    where n_ces_current > 0 and n_ces_baseline > 0

),

weighted as (

    select
        *,
        cast(n_current as double) / sum(n_current) over (
            partition by alert_type, dimension, dimension_value, date_day
        ) as stratum_weight
    from strata_metrics

),

-- strata combined with the current window's weights: the current value is the plain current
-- value, the baseline is re-weighted to the current mix (one stratum for a touchpoint: no change)
comparisons as (

    select
        alert_type,
        metric_name,
        dimension,
        dimension_value,
        date_day,
        max(day_number) as day_number,
        sum(n_current) as n_current,
        sum(n_baseline) as n_baseline,
        sum(stratum_weight * current_value) as current_value,
        sum(stratum_weight * baseline_value) as baseline_value,
        sqrt(sum(stratum_weight * stratum_weight * current_moe * current_moe)) as current_moe,
        sqrt(sum(stratum_weight * stratum_weight * baseline_moe * baseline_moe)) as baseline_moe
    from weighted
    group by 1, 2, 3, 4, 5

),

evaluated as (

    select
        *,
        current_value - baseline_value as value_difference,
        sqrt(current_moe * current_moe + baseline_moe * baseline_moe) as difference_moe,
        day_number >= {{ current_days + baseline_days }}
        and n_current >= {{ min_n }}
        and n_baseline >= {{ min_n }} as is_evaluable
    from comparisons

),

breaches as (

    select
        *,
        day_number - row_number() over (
            partition by alert_type, dimension, dimension_value
            order by day_number
        ) as streak_group
    from evaluated
    where
        is_evaluable
        and value_difference < -{{ z_factor }} * difference_moe

),

streaks as (

    select
        alert_type,
        dimension,
        dimension_value,
        streak_group,
        min(day_number) as first_day_number,
        max(day_number) as last_day_number,
        min(date_day) as breach_start_date,
        max(date_day) as breach_end_date,
        count(*) as n_breach_days
    from breaches
    group by 1, 2, 3, 4
    having count(*) >= {{ min_days }}

),

last_days as (

    select max(date_day) as last_date from rox_scorecard_daily

),

final as (

    select
        {{ surrogate_key([
            'breaches.alert_type',
            'breaches.dimension',
            'breaches.dimension_value',
            'breaches.date_day',
        ]) }} as alert_key,
        breaches.alert_type,
        breaches.dimension,
        breaches.dimension_value,
        breaches.metric_name,
        case
            when breaches.alert_type = 'nps_drop' and breaches.value_difference <= -20 then 'high'
            when breaches.alert_type = 'nps_drop' and breaches.value_difference <= -10 then 'medium'
            when breaches.alert_type = 'csat_drop' and breaches.value_difference <= -10 then 'high'
            when breaches.alert_type = 'csat_drop' and breaches.value_difference <= -5 then 'medium'
            when breaches.alert_type = 'effort_spike' and breaches.value_difference <= -1
                then 'high'
            when breaches.alert_type = 'effort_spike' and breaches.value_difference <= -0.5
                then 'medium'
            else 'low'
        end as severity,
        cast(breaches.current_value as double) as current_value,
        cast(breaches.baseline_value as double) as baseline_value,
        cast(breaches.value_difference as double) as value_difference,
        cast(breaches.difference_moe as double) as difference_margin_of_error,
        cast(breaches.current_moe as double) as current_margin_of_error,
        cast(breaches.baseline_moe as double) as baseline_margin_of_error,
        cast(
            1.96 * breaches.value_difference / nullif(breaches.difference_moe, 0) as double
        ) as z_score,
        cast(breaches.n_current as bigint) as n_current,
        cast(breaches.n_baseline as bigint) as n_baseline,
        cast(streaks.n_breach_days as integer) as n_breach_days,
        streaks.breach_end_date = last_days.last_date as is_ongoing,
        streaks.breach_start_date,
        breaches.date_day as alert_date,
        streaks.breach_end_date,
        cast(
            {{ dbt.dateadd('day', 1 - current_days, 'breaches.date_day') }} as date
        ) as current_window_start_date,
        cast(
            {{ dbt.dateadd('day', 1 - current_days - baseline_days, 'breaches.date_day') }} as date
        ) as baseline_window_start_date,
        cast({{ dbt.dateadd('day', - current_days, 'breaches.date_day') }} as date)
            as baseline_window_end_date
    from streaks
    inner join breaches
        on
            streaks.alert_type = breaches.alert_type
            and streaks.dimension = breaches.dimension
            and streaks.dimension_value = breaches.dimension_value
            and streaks.streak_group = breaches.streak_group
            and breaches.day_number = streaks.first_day_number + {{ min_days - 1 }}
    cross join last_days

)

select * from final
