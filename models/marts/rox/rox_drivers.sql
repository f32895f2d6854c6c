{#-
    Where to act: one row per driver x driver_level x outcome. For every candidate driver known at
    answer time (int_survey_responses_outcomes), its effect on the experience itself (the answer's NPS,
    CSAT and CES scores) and on the customer's net revenue in the 12 months after it (complete windows
    only): means with the driver present and absent, their difference with a 95% confidence interval,
    Pearson correlation, n, and the same difference **adjusted** for how often the customer buys.

    Adjustment by stratification: responses are split by the customer's non-cancelled orders in the 12
    months up to the answer (0 .. 5, 6-7, 8-9, 10-14, 15+: purchase frequency, which is also the order
    count that per-order drivers such as late delivery ride on); the present-minus-absent difference is taken
    inside each stratum that has at least 2 responses on each side and averaged with the stratum's
    share of those responses as weight; its variance is the weighted sum of the strata's
    s_p^2/n_p + s_a^2/n_a. Ranked by the absolute adjusted difference within the outcome. A driver is
    never scored against the outcome it is made of (effort against CES). Reasons: DECISIONLOG.md.
-#}

{%- set strata_sql -%}
    case
        when n_orders_prior_12m <= 5 then cast(n_orders_prior_12m as {{ dbt.type_string() }})
        when n_orders_prior_12m <= 7 then '6-7'
        when n_orders_prior_12m <= 9 then '8-9'
        when n_orders_prior_12m <= 14 then '10-14'
        else '15+'
    end
{%- endset %}

with

int_survey_responses_outcomes as (

    select * from {{ ref('int_survey_responses_outcomes') }}

),

fct_feedback_verbatims as (

    select * from {{ ref('fct_feedback_verbatims') }}

),

observations as (

    select
        response_id,
        order_channel,
        device,
        ces_band,
        nps_score,
        csat_score,
        ces_score,
        {{ strata_sql }} as purchase_frequency_stratum,
        discount_share_pct,
        n_cases_before_90d,
        mean_resolution_hours_before,
        net_revenue_12m_amount,
        had_late_delivery,
        n_refunds_before_90d,
        is_first_order,
        -- the delay of the answered order as the customer knew it (delivered before the answer)
        case
            when delivery_delay_hours_at_answer is null then null
            when delivery_delay_hours_at_answer <= 0 then 'on_time'
            when delivery_delay_hours_at_answer <= 24 then 'late_up_to_1d'
            when delivery_delay_hours_at_answer <= 72 then 'late_1_to_3d'
            else 'late_over_3d'
        end as delivery_delay_band,
        -- quartile of the answered order's gross amount among answered orders (reporting currency)
        case
            when reference_order_gross_amount is not null
                then 'q' || cast(
                        ntile(4) over (
                            partition by reference_order_gross_amount is null
                            order by reference_order_gross_amount, response_id
                        ) as {{ dbt.type_string() }}
                    )
        end as order_value_band,
        is_window_complete
    from int_survey_responses_outcomes

),

delivery_delay_bands as (

    select distinct delivery_delay_band as driver_level
    from observations
    where delivery_delay_band is not null

),

order_value_bands as (

    select distinct order_value_band as driver_level
    from observations
    where order_value_band is not null

),

order_channels as (

    select distinct order_channel as driver_level
    from observations
    where order_channel is not null

),

devices as (

    select distinct device as driver_level
    from observations
    where device is not null

),

-- one row per comment and theme (themes from macro verbatim_themes)
verbatim_themes as (

    {%- for theme in verbatim_themes() %}
        select
            response_id,
            '{{ theme }}' as theme,
            mentions_{{ theme }} as is_mentioned
        from fct_feedback_verbatims
        {%- if not loop.last %}

            union all
        {%- endif %}
    {%- endfor %}

),

-- one row per response with a comment and theme: does any of its comments mention the theme
response_themes as (

    select
        response_id,
        theme,
        max(case when is_mentioned then 1 else 0 end) = 1 as is_mentioned
    from verbatim_themes
    group by response_id, theme

),

-- one row per response and driver level it can be judged on: present or not, and the value that
-- the correlation uses (the 0/1 indicator, or the driver's own number for numeric drivers)
driver_values as (

    select
        response_id,
        'late_delivery' as driver,
        'binary' as driver_type,
        'late' as driver_level,
        'had_late_delivery (1 = late)' as driver_value_measure,
        case when had_late_delivery then 1.0 else 0.0 end as driver_value,
        had_late_delivery as is_present
    from observations
    where had_late_delivery is not null

    union all

    select
        response_id,
        'case_count_before_90d' as driver,
        'numeric' as driver_type,
        'any_case' as driver_level,
        'n_cases_before_90d' as driver_value_measure,
        cast(n_cases_before_90d as double) as driver_value,
        n_cases_before_90d > 0 as is_present
    from observations
    where n_cases_before_90d is not null

    union all

    select
        response_id,
        'resolution_time' as driver,
        'numeric' as driver_type,
        'over_{{ number_var("rox_slow_resolution_hours") }}h' as driver_level,
        'mean_resolution_hours_before' as driver_value_measure,
        mean_resolution_hours_before as driver_value,
        mean_resolution_hours_before > {{ number_var('rox_slow_resolution_hours') }} as is_present
    from observations
    where mean_resolution_hours_before is not null

    union all

    select
        response_id,
        'effort_ces' as driver,
        'numeric' as driver_type,
        'difficult' as driver_level,
        'ces_score (7 = very easy)' as driver_value_measure,
        cast(ces_score as double) as driver_value,
        ces_band = 'difficult' as is_present
    from observations
    where ces_score is not null

    union all

    select
        response_id,
        'discount_share' as driver,
        'numeric' as driver_type,
        'any_discount' as driver_level,
        'discount_share_pct' as driver_value_measure,
        discount_share_pct as driver_value,
        discount_share_pct > 0 as is_present
    from observations
    where discount_share_pct is not null

    union all

    select
        observations.response_id,
        'order_channel' as driver,
        'categorical' as driver_type,
        order_channels.driver_level,
        'order_channel = driver_level (1 = yes)' as driver_value_measure,
        case when observations.order_channel = order_channels.driver_level then 1.0 else 0.0 end
            as driver_value,
        observations.order_channel = order_channels.driver_level as is_present
    from observations
    cross join order_channels
    where observations.order_channel is not null

    union all

    select
        observations.response_id,
        'device' as driver,
        'categorical' as driver_type,
        devices.driver_level,
        'device = driver_level (1 = yes)' as driver_value_measure,
        case when observations.device = devices.driver_level then 1.0 else 0.0 end
            as driver_value,
        observations.device = devices.driver_level as is_present
    from observations
    cross join devices
    where observations.device is not null

    union all

    select
        observations.response_id,
        'delivery_delay_band' as driver,
        'categorical' as driver_type,
        delivery_delay_bands.driver_level,
        'delivery_delay_band = driver_level (1 = yes)' as driver_value_measure,
        case
            when
                observations.delivery_delay_band = delivery_delay_bands.driver_level
                then 1.0
            else 0.0
        end
            as driver_value,
        observations.delivery_delay_band = delivery_delay_bands.driver_level as is_present
    from observations
    cross join delivery_delay_bands
    where observations.delivery_delay_band is not null

    union all

    select
        observations.response_id,
        'order_value_band' as driver,
        'categorical' as driver_type,
        order_value_bands.driver_level,
        'order value quartile = driver_level (q1 lowest, 1 = yes)' as driver_value_measure,
        case
            when observations.order_value_band = order_value_bands.driver_level then 1.0 else 0.0
        end
            as driver_value,
        observations.order_value_band = order_value_bands.driver_level as is_present
    from observations
    cross join order_value_bands
    where observations.order_value_band is not null

    union all

    select
        response_id,
        'refund_count_before_90d' as driver,
        'numeric' as driver_type,
        'any_refund' as driver_level,
        'n_refunds_before_90d' as driver_value_measure,
        cast(n_refunds_before_90d as double) as driver_value,
        n_refunds_before_90d > 0 as is_present
    from observations
    where n_refunds_before_90d is not null

    union all

    select
        response_id,
        'first_order' as driver,
        'binary' as driver_type,
        'first' as driver_level,
        'is_first_order (1 = the customer''s first order)' as driver_value_measure,
        case when is_first_order then 1.0 else 0.0 end as driver_value,
        is_first_order as is_present
    from observations
    where is_first_order is not null

    union all

    -- among responses with a comment: mentioned the theme vs commented on something else
    select
        response_id,
        'theme_mentioned' as driver,
        'binary' as driver_type,
        theme as driver_level,
        'theme mentioned (1 = yes)' as driver_value_measure,
        case when is_mentioned then 1.0 else 0.0 end as driver_value,
        is_mentioned as is_present
    from response_themes

),

-- each driver against each outcome: the answer's NPS, CSAT and CES, and 12-month revenue of
-- complete windows
outcome_values as (

    {%- for score in ['nps_score', 'csat_score', 'ces_score'] %}
        select
            observations.response_id,
            '{{ score }}' as outcome,
            cast(observations.{{ score }} as double) as outcome_value,
            observations.purchase_frequency_stratum
        from observations
        where observations.{{ score }} is not null

        union all
    {%- endfor %}

    select
        observations.response_id,
        'net_revenue_12m_amount' as outcome,
        cast(observations.net_revenue_12m_amount as double) as outcome_value,
        observations.purchase_frequency_stratum
    from observations
    where observations.is_window_complete and observations.net_revenue_12m_amount is not null

),

-- read by two group-bys: computed twice (3 s at scale l) rather than copied (43M rows, spilling)
paired as {{ cte_not_materialized() }} (

    select
        driver_values.driver,
        driver_values.driver_type,
        driver_values.driver_level,
        driver_values.driver_value_measure,
        outcome_values.outcome,
        driver_values.driver_value,
        outcome_values.outcome_value,
        outcome_values.purchase_frequency_stratum,
        driver_values.is_present
    from driver_values
    inner join outcome_values
        on driver_values.response_id = outcome_values.response_id
    -- a driver made of the outcome is no driver of it
    where not (driver_values.driver = 'effort_ces' and outcome_values.outcome = 'ces_score')

),

aggregated as (

    select
        driver,
        driver_type,
        driver_level,
        driver_value_measure,
        outcome,
        count(*) as n_responses,
        count(case when is_present then 1 end) as n_present,
        count(case when not is_present then 1 end) as n_absent,
        avg(case when is_present then outcome_value end) as mean_when_present,
        avg(case when not is_present then outcome_value end) as mean_when_absent,
        -- crude variances: each side over all strata
        var_samp(case when is_present then outcome_value end) as var_present,
        var_samp(case when not is_present then outcome_value end) as var_absent,
        -- corr() is undefined (NaN or null by engine) when either side does not vary; a perfect
        -- correlation comes out of floating point as 1.0000000000000002 (three answers are enough),
        -- which no correlation is: kept within -1..1
        case
            when stddev_pop(driver_value) > 0 and stddev_pop(outcome_value) > 0
                then greatest(-1.0, least(1.0, corr(driver_value, outcome_value)))
        end as pearson_correlation
    from paired
    group by driver, driver_type, driver_level, driver_value_measure, outcome

),

-- per stratum: counts, means and sample variances on each side
strata as (

    select
        driver,
        driver_level,
        outcome,
        purchase_frequency_stratum,
        count(case when is_present then 1 end) as n_p,
        count(case when not is_present then 1 end) as n_a,
        avg(case when is_present then outcome_value end) as mean_p,
        avg(case when not is_present then outcome_value end) as mean_a,
        var_samp(case when is_present then outcome_value end) as var_p,
        var_samp(case when not is_present then outcome_value end) as var_a
    from paired
    group by driver, driver_level, outcome, purchase_frequency_stratum

),

usable_strata as (

    select
        *,
        cast(n_p + n_a as double) / sum(n_p + n_a) over (
            partition by driver, driver_level, outcome
        ) as stratum_weight
    from strata
    where n_p >= 2 and n_a >= 2

),

adjusted as (

    select
        driver,
        driver_level,
        outcome,
        count(*) as n_strata_used,
        sum(n_p + n_a) as n_adjusted,
        sum(stratum_weight * (mean_p - mean_a)) as adjusted_difference,
        sum(
            stratum_weight * stratum_weight
            * (coalesce(var_p, 0) / n_p + coalesce(var_a, 0) / n_a)
        ) as adjusted_variance
    from usable_strata
    group by driver, driver_level, outcome

),

compared as (

    select
        aggregated.*,
        aggregated.mean_when_present - aggregated.mean_when_absent as difference_of_means,
        1.96 * sqrt(
            coalesce(aggregated.var_present, 0) / nullif(aggregated.n_present, 0)
            + coalesce(aggregated.var_absent, 0) / nullif(aggregated.n_absent, 0)
        ) as difference_margin,
        adjusted.adjusted_difference,
        1.96 * sqrt(adjusted.adjusted_variance) as adjusted_margin,
        coalesce(adjusted.n_strata_used, 0) as n_strata_used,
        coalesce(adjusted.n_adjusted, 0) as n_adjusted,
        {{ is_low_confidence('aggregated.n_present') }}
        or {{ is_low_confidence('aggregated.n_absent') }} as is_low_confidence
    from aggregated
    left join adjusted
        on
            aggregated.driver = adjusted.driver
            and aggregated.driver_level = adjusted.driver_level
            and aggregated.outcome = adjusted.outcome

),

-- only rows with enough responses on both sides are ranked
rankable as (

    select
        *,
        not is_low_confidence and adjusted_difference is not null as is_rankable
    from compared

),

ranked as (

    select
        *,
        row_number() over (
            partition by outcome, is_rankable
            order by abs(adjusted_difference) desc, driver asc, driver_level asc
        ) as rank_in_partition
    from rankable

),

final as (

    select
        driver,
        driver_level,
        outcome,
        driver_type,
        driver_value_measure,
        cast(n_responses as bigint) as n_responses,
        cast(n_present as bigint) as n_present,
        cast(n_absent as bigint) as n_absent,
        cast(mean_when_present as double) as mean_when_present,
        cast(mean_when_absent as double) as mean_when_absent,
        cast(difference_of_means as double) as difference_of_means,
        cast(difference_of_means - difference_margin as double) as difference_ci_low,
        cast(difference_of_means + difference_margin as double) as difference_ci_high,
        cast(adjusted_difference as double) as adjusted_difference,
        cast(adjusted_difference - adjusted_margin as double) as adjusted_ci_low,
        cast(adjusted_difference + adjusted_margin as double) as adjusted_ci_high,
        cast(n_adjusted as bigint) as n_adjusted,
        cast(n_strata_used as integer) as n_strata_used,
        'stratified by orders in the 12 months before the answer '
        || '(0, 1, 2, 3, 4, 5, 6-7, 8-9, 10-14, 15+)' as adjustment_method,
        coalesce(
            adjusted_difference - adjusted_margin > 0
            or adjusted_difference + adjusted_margin < 0,
            false
        )
            as is_adjusted_significant,
        cast(pearson_correlation as double) as pearson_correlation,
        cast(case when is_rankable then rank_in_partition end as bigint) as effect_rank,
        is_low_confidence
    from ranked

)

select * from final
