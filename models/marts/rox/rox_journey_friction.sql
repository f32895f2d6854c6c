{#-
    One row per journey stage x touchpoint (every touchpoint of dim_touchpoints, with or without
    data), over all the history in the warehouse: effort, satisfaction, detractors, support cases per
    1,000 orders and their handling times, checkout abandonment, late deliveries, and a friction score
    (the mean of the pain shares the touchpoint has; see the model YAML and DECISIONLOG.md).
-#}

{%- set min_n = number_var('nps_low_confidence_n', 30) %}
{#- touchpoints an order passes through; cases elsewhere are rated per 1,000 orders of any kind -#}
{%- set order_bound = ["'TP-CHECKOUT'", "'TP-STORE'", "'TP-MARKETPLACE'", "'TP-DELIVERY'"] %}

with

dim_touchpoints as (

    select * from {{ ref('dim_touchpoints') }}

),

fct_survey_responses as (

    select * from {{ ref('fct_survey_responses') }}

),

fct_support_cases as (

    select * from {{ ref('fct_support_cases') }}

),

fct_orders as (

    select * from {{ ref('fct_orders') }}

),

int_web_sessions_sessionised as (

    select * from {{ ref('int_web_sessions_sessionised') }}

),

channel_touchpoints as (

    select * from {{ ref('order_channel_touchpoints') }}

),

survey_metrics as (

    select
        touchpoint_id,
        count(*) as n_responses,
        count(nps_score) as n_nps,
        count(case when nps_group = 'detractor' then 1 end) as n_detractors,
        count(csat_score) as n_csat,
        count(case when is_csat_satisfied then 1 end) as n_csat_satisfied,
        count(ces_score) as n_ces,
        count(case when is_ces_easy then 1 end) as n_ces_easy,
        avg(ces_score) as ces_mean
    from fct_survey_responses
    where touchpoint_id is not null
    group by 1

),

-- the purchase touchpoint an order was placed at and whether a carrier delivers it (store purchases
-- are handed over at the till): the order_channel_touchpoints seed, as in fct_journey_events; a
-- channel the seed does not know has no purchase touchpoint and is taken to travel with a carrier
orders as (

    select
        fct_orders.order_id,
        fct_orders.order_channel,
        fct_orders.is_cancelled,
        fct_orders.is_late_delivery,
        channel_touchpoints.touchpoint_id as purchase_touchpoint_id,
        coalesce(channel_touchpoints.is_carrier_delivered, true) and not fct_orders.is_cancelled
            as is_shipped
    from fct_orders
    left join channel_touchpoints
        on fct_orders.order_channel = channel_touchpoints.order_channel

),

-- orders that passed through each order-bound touchpoint
order_counts as (

    select
        purchase_touchpoint_id as touchpoint_id,
        count(*) as n_orders
    from orders
    where purchase_touchpoint_id is not null
    group by 1

    union all

    select
        'TP-DELIVERY' as touchpoint_id,
        count(*) as n_orders
    from orders
    where is_shipped

),

all_orders as (

    select count(*) as n_orders from orders

),

-- a case counts where it was raised (its touchpoint) and where the problem it is about lies:
-- delivery -> TP-DELIVERY, refund -> TP-RETURNS, billing / product -> the order's purchase
-- touchpoint
case_touchpoints as (

    select
        case_id,
        touchpoint_id
    from fct_support_cases
    where touchpoint_id is not null

    union

    select
        cases.case_id,
        case
            when cases.case_category = 'delivery' then 'TP-DELIVERY'
            when cases.case_category = 'refund' then 'TP-RETURNS'
            when cases.case_category in ('billing', 'product') then orders.purchase_touchpoint_id
        end as touchpoint_id
    from fct_support_cases as cases
    left join orders
        on cases.order_id = orders.order_id

),

case_metrics as (

    select
        case_touchpoints.touchpoint_id,
        count(*) as n_cases,
        avg(cases.first_response_hours) as mean_first_response_hours,
        avg(cases.resolution_hours) as mean_resolution_hours
    from case_touchpoints
    inner join fct_support_cases as cases
        on case_touchpoints.case_id = cases.case_id
    where case_touchpoints.touchpoint_id is not null
    group by 1

),

-- checkout funnel of web/app sessions: TP-CHECKOUT all of them, TP-WEB / TP-APP their own
funnel_sessions as (

    select
        touchpoint_id,
        is_checkout_abandoned
    from int_web_sessions_sessionised
    where has_checkout_start

    union all

    select
        'TP-CHECKOUT' as touchpoint_id,
        is_checkout_abandoned
    from int_web_sessions_sessionised
    where has_checkout_start

),

funnel_metrics as (

    select
        touchpoint_id,
        count(*) as n_checkout_starts,
        count(case when is_checkout_abandoned then 1 end) as n_checkouts_abandoned
    from funnel_sessions
    group by 1

),

delivery_metrics as (

    select
        'TP-DELIVERY' as touchpoint_id,
        count(*) as n_deliveries,
        count(case when is_late_delivery then 1 end) as n_late_deliveries
    from orders
    where is_shipped and is_late_delivery is not null

),

joined as (

    select
        touchpoints.journey_stage,
        touchpoints.touchpoint_id,
        touchpoints.touchpoint_name,
        touchpoints.owning_team,
        touchpoints.stage_order,
        coalesce(survey_metrics.n_responses, 0) as n_responses,
        coalesce(survey_metrics.n_nps, 0) as n_nps,
        coalesce(survey_metrics.n_csat, 0) as n_csat,
        coalesce(survey_metrics.n_ces, 0) as n_ces,
        survey_metrics.ces_mean,
        {{ ces_easy_pct('survey_metrics.n_ces_easy', 'survey_metrics.n_ces') }} as ces_easy_pct,
        {{ csat_pct('survey_metrics.n_csat_satisfied', 'survey_metrics.n_csat') }} as csat_pct,
        case
            when survey_metrics.n_nps > 0
                then 100.0 * cast(survey_metrics.n_detractors as double) / survey_metrics.n_nps
        end as detractor_share_pct,
        case
            when touchpoints.touchpoint_id in ({{ order_bound | join(', ') }})
                then coalesce(order_counts.n_orders, 0)
            else all_orders.n_orders
        end as n_orders,
        {{ count_if_measured('case_metrics.n_cases', 'fct_support_cases') }} as n_cases,
        case_metrics.mean_first_response_hours,
        case_metrics.mean_resolution_hours,
        {{ count_if_measured('funnel_metrics.n_checkout_starts', 'int_web_sessions_sessionised') }}
            as n_checkout_starts,
        case
            when funnel_metrics.n_checkout_starts > 0
                then (
                    100.0 * cast(funnel_metrics.n_checkouts_abandoned as double)
                    / funnel_metrics.n_checkout_starts
                )
        end as checkout_abandonment_pct,
        coalesce(delivery_metrics.n_deliveries, 0) as n_deliveries,
        case
            when delivery_metrics.n_deliveries > 0
                then (
                    100.0 * cast(delivery_metrics.n_late_deliveries as double)
                    / delivery_metrics.n_deliveries
                )
        end as late_delivery_pct
    from dim_touchpoints as touchpoints
    cross join all_orders
    left join survey_metrics
        on touchpoints.touchpoint_id = survey_metrics.touchpoint_id
    left join order_counts
        on touchpoints.touchpoint_id = order_counts.touchpoint_id
    left join case_metrics
        on touchpoints.touchpoint_id = case_metrics.touchpoint_id
    left join funnel_metrics
        on touchpoints.touchpoint_id = funnel_metrics.touchpoint_id
    left join delivery_metrics
        on touchpoints.touchpoint_id = delivery_metrics.touchpoint_id

),

with_rates as (

    select
        *,
        case
            when n_orders > 0 then 1000.0 * cast(n_cases as double) / n_orders
        end as cases_per_1000_orders
    from joined

),

-- pain shares, 0-100 (higher = worse), each only when its n reaches nps_low_confidence_n
pains as (

    select
        *,
        case when n_ces >= {{ min_n }} then 100 - ces_easy_pct end as pain_not_easy,
        case when n_csat >= {{ min_n }} then 100 - csat_pct end as pain_not_satisfied,
        case when n_nps >= {{ min_n }} then detractor_share_pct end as pain_detractors,
        case
            when n_checkout_starts >= {{ min_n }} then checkout_abandonment_pct
        end as pain_abandoned,
        case when n_deliveries >= {{ min_n }} then late_delivery_pct end as pain_late,
        -- % of orders with a case there: where an order passes through, or where cases are raised
        case
            when
                n_orders >= {{ min_n }}
                and (touchpoint_id in ({{ order_bound | join(', ') }}) or n_cases > 0)
                then least(cases_per_1000_orders / 10, 100)
        end as pain_cases
    from with_rates

),

counted as (

    select
        *,
        (
            case when pain_not_easy is null then 0 else 1 end
            + case when pain_not_satisfied is null then 0 else 1 end
            + case when pain_detractors is null then 0 else 1 end
            + case when pain_abandoned is null then 0 else 1 end
            + case when pain_late is null then 0 else 1 end
            + case when pain_cases is null then 0 else 1 end
        ) as n_friction_indicators,
        (
            coalesce(pain_not_easy, 0)
            + coalesce(pain_not_satisfied, 0)
            + coalesce(pain_detractors, 0)
            + coalesce(pain_abandoned, 0)
            + coalesce(pain_late, 0)
            + coalesce(pain_cases, 0)
        ) as pain_sum
    from pains

),

scored as (

    select
        *,
        case
            when n_friction_indicators > 0 then pain_sum / n_friction_indicators
        end as friction_score
    from counted

),

final as (

    select
        journey_stage,
        touchpoint_id,
        touchpoint_name,
        owning_team,
        cast(stage_order as integer) as stage_order,
        cast(n_responses as bigint) as n_responses,
        cast(n_nps as bigint) as n_nps,
        cast(n_csat as bigint) as n_csat,
        cast(n_ces as bigint) as n_ces,
        cast(ces_mean as double) as ces_mean,
        cast(ces_easy_pct as double) as ces_easy_pct,
        cast(csat_pct as double) as csat_pct,
        cast(detractor_share_pct as double) as detractor_share_pct,
        cast(n_orders as bigint) as n_orders,
        cast(n_cases as bigint) as n_cases,
        cast(cases_per_1000_orders as double) as cases_per_1000_orders,
        cast(mean_first_response_hours as double) as mean_first_response_hours,
        cast(mean_resolution_hours as double) as mean_resolution_hours,
        cast(n_checkout_starts as bigint) as n_checkout_starts,
        cast(checkout_abandonment_pct as double) as checkout_abandonment_pct,
        cast(n_deliveries as bigint) as n_deliveries,
        cast(late_delivery_pct as double) as late_delivery_pct,
        cast(n_friction_indicators as integer) as n_friction_indicators,
        cast(friction_score as double) as friction_score,
        cast(
            case
                when friction_score is not null
                    then rank() over (order by friction_score desc nulls last)
            end as integer
        ) as friction_rank
    from scored

)

select * from final
