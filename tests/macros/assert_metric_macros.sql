-- The metric macros against hand-computed values (DESIGN.md section 3).
-- 10 answers: 5 promoters, 2 passives, 3 detractors -> NPS = 100 * (5 - 3) / 10 = 20;
-- p = 0.5, d = 0.3: MoE = 196 * sqrt((0.8 - 0.04) / 10) = 196 * sqrt(0.076) = 54.0335...
with

bands as (

    select *
    from (
        values
        (0, 'detractor'), (6, 'detractor'), (7, 'passive'), (8, 'passive'),
        (9, 'promoter'), (10, 'promoter'), (11, null), (-1, null)
    ) as t (score, expected_group)

),

csat as (

    select *
    from (
        values
        (1, 'dissatisfied', false), (2, 'dissatisfied', false), (3, 'neutral', false),
        (4, 'satisfied', true), (5, 'satisfied', true)
    ) as t (score, expected_band, expected_satisfied)

),

ces as (

    select *
    from (
        values
        (1, 'difficult', false), (3, 'difficult', false), (4, 'neutral', false),
        (5, 'easy', true), (7, 'easy', true)
    ) as t (score, expected_band, expected_easy)

),

-- the default bands of seeds/survey_metric_thresholds.csv are DESIGN.md's: looked up the way every model does
looked_up as (

    select
        'nps' as metric,
        bands.score,
        bands.expected_group as expected_band,
        cast(null as boolean) as expected_positive,
        nps_bands.band,
        nps_bands.polarity = 'positive' as is_positive
    from bands
    {{ join_metric_band('nps', 'bands.score', 'nps_bands') }}

    union all

    select
        'csat' as metric,
        csat.score,
        csat.expected_band,
        csat.expected_satisfied as expected_positive,
        csat_bands.band,
        csat_bands.polarity = 'positive' as is_positive
    from csat
    {{ join_metric_band('csat', 'csat.score', 'csat_bands') }}

    union all

    select
        'ces' as metric,
        ces.score,
        ces.expected_band,
        ces.expected_easy as expected_positive,
        ces_bands.band,
        ces_bands.polarity = 'positive' as is_positive
    from ces
    {{ join_metric_band('ces', 'ces.score', 'ces_bands') }}

),

failures as (

    select metric as check_name, cast(score as {{ dbt.type_string() }}) as input_value
    from looked_up
    where
        band is distinct from expected_band
        or (expected_positive is not null and is_positive is distinct from expected_positive)

    union all

    select 'nps_score' as check_name, '5/3/10' as input_value
    where {{ nps_score(5, 3, 10) }} is distinct from 20.0

    union all

    select 'nps_margin_of_error' as check_name, '5/3/10' as input_value
    where abs({{ nps_margin_of_error(5, 3, 10) }} - 54.0335) > 0.001

    union all

    select 'nps_score_empty' as check_name, '0/0/0' as input_value
    where {{ nps_score(0, 0, 0) }} is not null

    union all

    select 'csat_pct' as check_name, '7/10' as input_value
    where {{ csat_pct(7, 10) }} is distinct from 70.0

    union all

    select 'valid_answer' as check_name, 'nps 2.5' as input_value
    where {{ is_valid_metric_answer(2.5, 0, 10) }} or not {{ is_valid_metric_answer(10, 0, 10) }}

    union all

    select 'net_revenue_cancelled' as check_name, 'cancelled' as input_value
    where {{ net_revenue(100, 10, 5, true) }} <> 0

    union all

    select 'net_revenue' as check_name, '100-10-5' as input_value
    where {{ net_revenue(100, 10, 5, false) }} <> 85

    union all

    select 'to_reporting_currency' as check_name, '320 TRY at 32/USD' as input_value
    where {{ to_reporting_currency(320, 32, 1) }} <> 10.00

    union all

    -- churn_days = 180, as of 2026-01-01
    select 'churn_status' as check_name, cast(first_at as {{ dbt.type_string() }}) as input_value
    from (
        values
        (timestamp '2025-12-20', timestamp '2025-12-20', 'censored'),
        (timestamp '2025-07-06', timestamp '2025-07-06', 'censored'),
        (timestamp '2024-01-01', timestamp '2025-05-01', 'churned'),
        (timestamp '2024-01-01', timestamp '2025-12-01', 'retained'),
        (cast(null as timestamp), cast(null as timestamp), null)
    ) as t (first_at, last_at, expected)
    where
        {{ churn_status('first_at', 'last_at', "timestamp '2026-01-01'") }}
        is distinct from expected

)

select * from failures
