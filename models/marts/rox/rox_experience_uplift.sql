{#-
    Does experience change behaviour, or do good customers just say nice things? For each experience
    metric (NPS, CSAT, CES) and outcome (net revenue, orders, gross margin where every cost is known):
    the difference-in-differences of the outcome in the W days after the answer vs the W days before
    it, between the metric's positive group (promoters, satisfied, easy) and its negative group
    (detractors, dissatisfied, difficult), W = var rox_uplift_window_days (365).

    Unit: one answer per customer and metric whose two windows are complete (the before-window
    starts on or after the first order in the data, the after-window ends by the as-of date), picked by
    a hash of the response id: the latest answer would be the one no later answer follows, and answers
    follow orders, so it would select customers who bought less afterwards. The order the answer is
    about is in neither window (it is why the customer was asked, not behaviour). The
    groups' mean changes (after - before) are compared; the 95% interval is
    1.96 x sqrt(s_pos^2 / n_pos + s_neg^2 / n_neg) of the per-customer changes. A placebo runs the same
    comparison inside the before-window (its second half minus its first half): a placebo interval that
    excludes 0 says the groups were already drifting apart before the answer, and the uplift should not
    be read as caused by the experience. Reasons: DECISIONLOG.md.
-#}

{%- set window_days = number_var('rox_uplift_window_days', 365) %}
{%- set half_days = (window_days / 2) | int %}
{%- set band_columns = [('nps', 'nps_group'), ('csat', 'csat_band'), ('ces', 'ces_band')] %}

with

responses as (

    select * from {{ ref('fct_survey_responses') }}

),

orders as (

    select * from {{ ref('fct_orders') }}

),

as_of as (

    select as_of_at from {{ ref('int_as_of_date') }}

),

data_start as (

    select min(ordered_at) as first_order_at from orders

),

-- one row per answer and metric with the band's polarity (seed), its customer known
answers as (

    {%- for metric, band_column in band_columns %}
        select
            responses.response_id,
            responses.customer_key,
            responses.order_id as surveyed_order_id,
            responses.submitted_at,
            '{{ metric }}' as experience_metric,
            bands.polarity
        from responses
        inner join {{ ref('survey_metric_thresholds') }} as bands
            on
                bands.metric = '{{ metric }}'
                and responses.{{ band_column }} = bands.band
        where responses.customer_key is not null
        {%- if not loop.last %}

            union all
        {%- endif %}
    {%- endfor %}

),

-- both windows complete; one such answer per customer and metric, picked by a hash of its id
eligible as (

    select
        answers.*,
        row_number() over (
            partition by answers.customer_key, answers.experience_metric
            order by md5(answers.response_id), answers.response_id
        ) as answer_rank
    from answers
    cross join as_of
    cross join data_start
    where
        answers.polarity in ('positive', 'negative')
        and data_start.first_order_at
        <= {{ dbt.dateadd('day', -window_days, 'answers.submitted_at') }}
        and {{ dbt.dateadd('day', window_days, 'answers.submitted_at') }} <= as_of.as_of_at

),

units as (

    select * from eligible
    where answer_rank = 1

),

-- each unit's orders in the two windows: before [t - W, t), after (t, t + W]; the before-window's
-- halves for the placebo
unit_orders as (

    select
        units.response_id,
        orders.net_revenue_amount,
        orders.gross_margin_amount,
        orders.is_cancelled,
        orders.ordered_at > units.submitted_at as is_after,
        orders.ordered_at < {{ dbt.dateadd('day', -half_days, 'units.submitted_at') }}
            as is_first_half
    from units
    inner join orders
        on
            units.customer_key = orders.customer_key
            and orders.ordered_at >= {{ dbt.dateadd('day', -window_days, 'units.submitted_at') }}
            and orders.ordered_at <= {{ dbt.dateadd('day', window_days, 'units.submitted_at') }}
            and units.submitted_at != orders.ordered_at
            -- the order that triggered the survey is why there is an answer at all, not behaviour
            and (units.surveyed_order_id is null or units.surveyed_order_id != orders.order_id)

),

unit_sums as (

    select
        response_id,
        sum(case when is_after then net_revenue_amount else 0 end) as revenue_after,
        sum(case when not is_after then net_revenue_amount else 0 end) as revenue_before,
        sum(case when not is_after and is_first_half then net_revenue_amount else 0 end)
            as revenue_before_first_half,
        sum(case when not is_after and not is_first_half then net_revenue_amount else 0 end)
            as revenue_before_second_half,
        count(case when is_after and not is_cancelled then 1 end) as orders_after,
        count(case when not is_after and not is_cancelled then 1 end) as orders_before,
        count(case when not is_after and is_first_half and not is_cancelled then 1 end)
            as orders_before_first_half,
        count(case when not is_after and not is_first_half and not is_cancelled then 1 end)
            as orders_before_second_half,
        -- margin only where every order's cost is known (no cost data: no margin, never 0)
        count(case when gross_margin_amount is null then 1 end) as n_unknown_margin,
        sum(case when is_after then gross_margin_amount else 0 end) as margin_after,
        sum(case when not is_after then gross_margin_amount else 0 end) as margin_before,
        sum(case when not is_after and is_first_half then gross_margin_amount else 0 end)
            as margin_before_first_half,
        sum(case when not is_after and not is_first_half then gross_margin_amount else 0 end)
            as margin_before_second_half
    from unit_orders
    group by response_id

),

-- one row per unit and outcome: the change across the answer, and the placebo change before it
changes as (

    {%- for outcome, after, before, first, second in [
        ('net_revenue', 'revenue_after', 'revenue_before', 'revenue_before_first_half', 'revenue_before_second_half'),
        ('orders', 'orders_after', 'orders_before', 'orders_before_first_half', 'orders_before_second_half'),
        ('gross_margin', 'margin_after', 'margin_before', 'margin_before_first_half', 'margin_before_second_half'),
    ] %}
        select
            units.experience_metric,
            units.polarity,
            '{{ outcome }}' as outcome,
            cast(coalesce(unit_sums.{{ after }}, 0) - coalesce(unit_sums.{{ before }}, 0) as double)
                as window_change,
            cast(coalesce(unit_sums.{{ second }}, 0) - coalesce(unit_sums.{{ first }}, 0) as double)
                as placebo_change
        from units
        left join unit_sums on units.response_id = unit_sums.response_id
        {%- if outcome == 'gross_margin' %}
            where
                coalesce(unit_sums.n_unknown_margin, 0) = 0
                -- an export without any cost has no margin to compare, not a margin of 0
                and {{ cost_is_measured('orders') }}
        {%- endif %}
    {%- if not loop.last %}

            union all
        {%- endif %}
    {%- endfor %}

),

groups as (

    select
        experience_metric,
        outcome,
        polarity,
        count(*) as n_units,
        avg(window_change) as mean_change,
        var_samp(window_change) as var_change,
        avg(placebo_change) as mean_placebo_change,
        var_samp(placebo_change) as var_placebo_change
    from changes
    group by experience_metric, outcome, polarity

),

-- the metrics the survey programme asks: those with at least one banded answer in the data
-- (a CSAT-only programme gets no NPS or CES rows; an asked metric without units gets n_* = 0)
asked as (

    select
        count(nps_group) as n_nps,
        count(csat_band) as n_csat,
        count(ces_band) as n_ces
    from responses

),

metrics as (

    select 'nps' as experience_metric
    from asked
    where n_nps > 0
    union all
    select 'csat' as experience_metric
    from asked
    where n_csat > 0
    union all
    select 'ces' as experience_metric
    from asked
    where n_ces > 0

),

outcomes as (

    select 'net_revenue' as outcome
    union all
    select 'orders' as outcome
    union all
    select 'gross_margin' as outcome

),

-- every asked metric x outcome, with or without eligible answers (n_* = 0 says why a cell is empty)
grid as (

    select
        metrics.experience_metric,
        outcomes.outcome
    from metrics
    cross join outcomes

),

compared as (

    select
        grid.experience_metric,
        grid.outcome,
        coalesce(positive.n_units, 0) as n_positive,
        coalesce(negative.n_units, 0) as n_negative,
        positive.mean_change as mean_change_positive,
        negative.mean_change as mean_change_negative,
        positive.mean_change - negative.mean_change as uplift,
        1.96 * sqrt(
            positive.var_change / positive.n_units + negative.var_change / negative.n_units
        ) as uplift_margin,
        positive.mean_placebo_change - negative.mean_placebo_change as placebo_uplift,
        1.96 * sqrt(
            positive.var_placebo_change / positive.n_units
            + negative.var_placebo_change / negative.n_units
        ) as placebo_margin
    from grid
    left join groups as positive
        on
            grid.experience_metric = positive.experience_metric
            and grid.outcome = positive.outcome
            and positive.polarity = 'positive'
    left join groups as negative
        on
            grid.experience_metric = negative.experience_metric
            and grid.outcome = negative.outcome
            and negative.polarity = 'negative'

),

final as (

    select
        experience_metric,
        outcome,
        'positive_vs_negative' as comparison,
        cast({{ window_days }} as integer) as window_days,
        cast(n_positive as bigint) as n_positive,
        cast(n_negative as bigint) as n_negative,
        cast(mean_change_positive as double) as mean_change_positive,
        cast(mean_change_negative as double) as mean_change_negative,
        cast(uplift as double) as uplift,
        cast(uplift - uplift_margin as double) as uplift_ci_low,
        cast(uplift + uplift_margin as double) as uplift_ci_high,
        cast(placebo_uplift as double) as placebo_uplift,
        cast(placebo_uplift - placebo_margin as double) as placebo_ci_low,
        cast(placebo_uplift + placebo_margin as double) as placebo_ci_high,
        case
            when placebo_margin is not null
                then placebo_uplift - placebo_margin <= 0 and placebo_uplift + placebo_margin >= 0
        end as is_placebo_passed,
        case
            when uplift_margin is not null
                then uplift - uplift_margin > 0 or uplift + uplift_margin < 0
        end as is_uplift_significant,
        {{ is_low_confidence('n_positive') }} or {{ is_low_confidence('n_negative') }}
            as is_low_confidence,
        (select cast(as_of.as_of_at as date) from as_of) as as_of_date
    from compared

)

select * from final
