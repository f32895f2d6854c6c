{{ config(materialized='table') }}

{#-
    One row per survey response with a customer_key: the answer, the drivers known at answer time and
    the customer's outcomes in the 12 months after it, (submitted_at, submitted_at + 365 days].
    A window that ends after the as-of time is incomplete: its outcomes are null, never zero.
    Definitions and their reasons: DECISIONLOG.md ("RoX outcomes").
-#}

with

fct_survey_responses as (

    select * from {{ ref('fct_survey_responses') }}

),

fct_orders as (

    select * from {{ ref('fct_orders') }}

),

fct_support_cases as (

    select * from {{ ref('fct_support_cases') }}

),

-- refunds carry their own time (fct_orders only sums them): a refund is a driver only if it
-- happened before the answer
stg_commerce__refunds as (

    select * from {{ ref('stg_commerce__refunds') }}

),

dim_customers as (

    select * from {{ ref('dim_customers') }}

),

-- the one as-of time of every model (int_as_of_date)
as_of as (

    select as_of_at from {{ ref('int_as_of_date') }}

),

-- non-PII profile columns only
profiles as (

    select
        customer_key,
        referred_by_customer_key,
        segment,
        industry_vertical,
        crm_created_at
    from dim_customers

),

responses as (

    select
        fct_survey_responses.response_id,
        fct_survey_responses.customer_key,
        fct_survey_responses.order_id,
        fct_survey_responses.survey_type,
        fct_survey_responses.touchpoint_id,
        fct_survey_responses.journey_stage,
        fct_survey_responses.invitation_channel,
        fct_survey_responses.device,
        fct_survey_responses.nps_group,
        fct_survey_responses.csat_band,
        fct_survey_responses.ces_band,
        fct_survey_responses.nps_score,
        fct_survey_responses.csat_score,
        fct_survey_responses.ces_score,
        fct_survey_responses.submitted_at,
        {{ dbt.dateadd('day', 365, 'fct_survey_responses.submitted_at') }} as window_end_at,
        {{ dbt.dateadd('day', -365, 'fct_survey_responses.submitted_at') }} as prior_year_start_at,
        {{ dbt.dateadd('day', -90, 'fct_survey_responses.submitted_at') }} as lookback_start_at,
        as_of.as_of_at
    from fct_survey_responses
    cross join as_of
    where fct_survey_responses.customer_key is not null

),

-- every order of the respondent up to the end of the window, classified against the answer
response_orders as (

    select
        responses.response_id,
        fct_orders.order_id,
        fct_orders.order_channel,
        fct_orders.gross_amount,
        fct_orders.discount_amount,
        fct_orders.refund_amount,
        fct_orders.net_revenue_amount,
        fct_orders.gross_margin_amount,
        fct_orders.is_cancelled,
        fct_orders.ordered_at,
        fct_orders.customer_order_number,
        -- the delay as the customer knew it when answering: only a delivery made before the answer
        case
            when fct_orders.delivered_at <= responses.submitted_at
                then fct_orders.delivery_delay_hours
        end as delivery_delay_hours_at_answer,
        fct_orders.ordered_at > responses.submitted_at as is_after_answer,
        fct_orders.ordered_at > responses.prior_year_start_at
        and fct_orders.ordered_at <= responses.submitted_at as is_in_prior_year,
        fct_orders.ordered_at > responses.lookback_start_at
        and fct_orders.ordered_at <= responses.submitted_at as is_in_lookback,
        fct_orders.order_id = responses.order_id as is_surveyed_order,
        -- late as the customer saw it when answering: the promise had passed without a delivery
        fct_orders.promised_delivery_at < responses.submitted_at
        and coalesce(fct_orders.delivered_at > fct_orders.promised_delivery_at, true)
            as is_late_at_answer
    from responses
    inner join fct_orders
        on
            responses.customer_key = fct_orders.customer_key
            and responses.window_end_at >= fct_orders.ordered_at

),

order_outcomes as (

    select
        response_id,
        sum(net_revenue_amount) filter (where is_after_answer) as net_revenue_amount,
        sum(gross_margin_amount) filter (where is_after_answer) as gross_margin_amount,
        count(*) filter (
            where is_after_answer and gross_margin_amount is null
        ) as n_orders_unknown_margin,
        sum(net_revenue_amount) filter (where is_after_answer and gross_margin_amount is not null)
            as net_revenue_known_cost_amount,
        sum(refund_amount) filter (where is_after_answer) as refund_amount,
        count(*) filter (where is_after_answer and not is_cancelled) as n_orders,
        count(*) filter (where is_in_prior_year and not is_cancelled) as n_orders_prior_year,
        min(ordered_at) filter (where not is_cancelled) as first_order_at,
        max(ordered_at) filter (where not is_cancelled) as last_order_at,
        -- null (not judged) when there is no order to judge: neither surveyed nor recent
        max(
            case when (is_surveyed_order or is_in_lookback) and not is_cancelled then 1 else 0 end
        ) = 1 as has_order_to_judge,
        max(
            case
                when
                    (is_surveyed_order or is_in_lookback)
                    and not is_cancelled
                    and is_late_at_answer
                    then 1
                else 0
            end
        ) = 1 as has_late_order
    from response_orders
    group by response_id

),

-- the order the answer is about: the surveyed order, else the latest order of the 90 days before
reference_orders as (

    select
        response_id,
        order_id as reference_order_id,
        order_channel,
        gross_amount as reference_order_gross_amount,
        delivery_delay_hours_at_answer,
        customer_order_number = 1 as is_first_order,
        case
            when gross_amount > 0 then 100.0 * cast(discount_amount as double) / gross_amount
        end as discount_share_pct
    from (
        select
            response_id,
            order_id,
            order_channel,
            gross_amount,
            discount_amount,
            delivery_delay_hours_at_answer,
            customer_order_number,
            row_number() over (
                partition by response_id
                order by
                    case when is_surveyed_order then 0 else 1 end,
                    ordered_at desc,
                    order_id desc
            ) as order_rank
        from response_orders
        where is_surveyed_order or (is_in_lookback and not is_cancelled)
    ) as candidates
    where order_rank = 1

),

case_outcomes as (

    select
        responses.response_id,
        count(*) filter (
            where fct_support_cases.opened_at > responses.submitted_at
        ) as n_cases_after,
        count(*) filter (
            where
            fct_support_cases.opened_at > responses.lookback_start_at
            and fct_support_cases.opened_at <= responses.submitted_at
        ) as n_cases_lookback,
        avg(fct_support_cases.resolution_hours) filter (
            where
            fct_support_cases.opened_at > responses.lookback_start_at
            and fct_support_cases.closed_at <= responses.submitted_at
        ) as mean_resolution_hours_lookback
    from responses
    inner join fct_support_cases
        on
            responses.customer_key = fct_support_cases.customer_key
            and responses.lookback_start_at < fct_support_cases.opened_at
            and responses.window_end_at >= fct_support_cases.opened_at
    group by responses.response_id

),

-- refunds of the respondent's orders in the 90 days up to the answer
refund_outcomes as (

    select
        responses.response_id,
        count(*) as n_refunds_lookback
    from responses
    inner join fct_orders on responses.customer_key = fct_orders.customer_key
    inner join stg_commerce__refunds
        on
            fct_orders.order_id = stg_commerce__refunds.order_id
            and responses.lookback_start_at < stg_commerce__refunds.refunded_at
            and responses.submitted_at >= stg_commerce__refunds.refunded_at
    group by responses.response_id

),

-- customers the respondent referred whose CRM record was created inside the window
referees as (

    select
        responses.response_id,
        profiles.customer_key as referee_customer_key,
        responses.submitted_at,
        responses.window_end_at
    from responses
    inner join profiles
        on
            responses.customer_key = profiles.referred_by_customer_key
            and responses.submitted_at < profiles.crm_created_at
            and responses.window_end_at >= profiles.crm_created_at

),

referee_revenue as (

    select
        referees.response_id,
        referees.referee_customer_key,
        coalesce(sum(fct_orders.net_revenue_amount), 0) as net_revenue_amount
    from referees
    left join fct_orders
        on
            referees.referee_customer_key = fct_orders.customer_key
            and referees.submitted_at < fct_orders.ordered_at
            and referees.window_end_at >= fct_orders.ordered_at
    group by referees.response_id, referees.referee_customer_key

),

referral_outcomes as (

    select
        response_id,
        count(*) as n_referrals,
        sum(net_revenue_amount) as referral_value_amount
    from referee_revenue
    group by response_id

),

joined as (

    select
        responses.*,
        profiles.segment,
        profiles.industry_vertical,
        reference_orders.reference_order_id,
        reference_orders.order_channel,
        reference_orders.discount_share_pct,
        reference_orders.reference_order_gross_amount,
        reference_orders.delivery_delay_hours_at_answer,
        reference_orders.is_first_order,
        case
            when reference_orders.reference_order_id is not null
                then coalesce(refund_outcomes.n_refunds_lookback, 0)
        end as n_refunds_before_90d,
        {{ count_if_measured('case_outcomes.n_cases_lookback', 'fct_support_cases') }}
            as n_cases_before_90d,
        case_outcomes.mean_resolution_hours_lookback as mean_resolution_hours_before,
        case when order_outcomes.has_order_to_judge then order_outcomes.has_late_order end
            as had_late_delivery,
        coalesce(order_outcomes.net_revenue_amount, 0) as net_revenue_after,
        -- unknown cost gives an unknown margin (null), never 0; no order after it is a true 0
        case
            when
                {{ cost_is_measured('fct_orders') }}
                and coalesce(order_outcomes.n_orders_unknown_margin, 0) = 0
                then coalesce(order_outcomes.gross_margin_amount, 0)
        end as gross_margin_after,
        coalesce(order_outcomes.net_revenue_known_cost_amount, 0) as net_revenue_known_cost_after,
        coalesce(order_outcomes.refund_amount, 0) as refund_after,
        coalesce(order_outcomes.n_orders, 0) as n_orders_after,
        coalesce(order_outcomes.n_orders_prior_year, 0) as n_orders_prior_year,
        {{ count_if_measured('case_outcomes.n_cases_after', 'fct_support_cases') }}
            as n_cases_after,
        coalesce(referral_outcomes.n_referrals, 0) as n_referrals_after,
        coalesce(referral_outcomes.referral_value_amount, 0) as referral_value_after,
        {{ churn_status(
            'order_outcomes.first_order_at', 'order_outcomes.last_order_at',
            'responses.window_end_at'
        ) }} as churn_status_at_window_end,
        responses.window_end_at <= responses.as_of_at as is_window_complete
    from responses
    left join profiles on responses.customer_key = profiles.customer_key
    left join order_outcomes on responses.response_id = order_outcomes.response_id
    left join reference_orders on responses.response_id = reference_orders.response_id
    left join case_outcomes on responses.response_id = case_outcomes.response_id
    left join referral_outcomes on responses.response_id = referral_outcomes.response_id
    left join refund_outcomes on responses.response_id = refund_outcomes.response_id

),

final as (

    select
        response_id,
        customer_key,
        order_id,
        reference_order_id,
        survey_type,
        touchpoint_id,
        journey_stage,
        invitation_channel,
        device,
        order_channel,
        segment,
        industry_vertical,
        nps_group,
        csat_band,
        ces_band,
        nps_score,
        csat_score,
        ces_score,
        cast(discount_share_pct as double) as discount_share_pct,
        cast(reference_order_gross_amount as decimal(18, 2)) as reference_order_gross_amount,
        cast(delivery_delay_hours_at_answer as double) as delivery_delay_hours_at_answer,
        is_first_order,
        cast(n_refunds_before_90d as bigint) as n_refunds_before_90d,
        cast(n_cases_before_90d as bigint) as n_cases_before_90d,
        -- non-cancelled orders in the 12 months up to the answer: the buying frequency drivers are
        -- adjusted for (rox_drivers), and the base of retention
        cast(n_orders_prior_year as bigint) as n_orders_prior_12m,
        cast(mean_resolution_hours_before as double) as mean_resolution_hours_before,
        -- outcomes: only for complete windows (an incomplete window is unknown, not zero)
        case
            when is_window_complete then cast(net_revenue_after as decimal(18, 2))
        end as net_revenue_12m_amount,
        case
            when is_window_complete then cast(gross_margin_after as decimal(18, 2))
        end as gross_margin_12m_amount,
        case
            when is_window_complete then cast(net_revenue_known_cost_after as decimal(18, 2))
        end as net_revenue_known_cost_12m_amount,
        case
            when is_window_complete then cast(refund_after as decimal(18, 2))
        end as refund_12m_amount,
        case when is_window_complete then cast(n_orders_after as bigint) end as n_orders_12m,
        case when is_window_complete then cast(n_cases_after as bigint) end as n_cases_12m,
        case
            when is_window_complete then cast(n_referrals_after as bigint)
        end as n_referrals_12m,
        case
            when is_window_complete then cast(referral_value_after as decimal(18, 2))
        end as referral_value_12m_amount,
        had_late_delivery,
        case when is_window_complete then n_orders_after >= 2 end as has_repeat_purchase_12m,
        case
            when is_window_complete and n_orders_prior_year > 0 then n_orders_after > 0
        end as is_retained_12m,
        case
            when is_window_complete and churn_status_at_window_end in ('churned', 'retained')
                then churn_status_at_window_end = 'churned'
        end as is_churned_12m,
        is_window_complete,
        cast({{ dbt.date_trunc('month', 'submitted_at') }} as date) as cohort_month,
        cast(submitted_at as date) as submitted_date,
        submitted_at,
        window_end_at,
        as_of_at
    from joined

)

select * from final
