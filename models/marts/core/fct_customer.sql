{#-
    The unified customer fact: one row per customer_key, the 360-degree view BI reads.
    No PII: profile attributes come from dim_customers' non-PII columns only.
    Everything "as of" is measured at int_as_of_date (var as_of_date, else the day after the newest order).
-#}

-- noqa: disable=LT02
with

customers as (

    select * from {{ ref('dim_customers') }}

),

orders as (

    select * from {{ ref('fct_orders') }}

),

responses as (

    select * from {{ ref('fct_survey_responses') }}

),

invitations as (

    select * from {{ ref('fct_survey_invitations') }}

),

cases as (

    select * from {{ ref('fct_support_cases') }}

),

sessions as (

    select * from {{ ref('int_web_sessions_sessionised') }}

),

as_of as (

    select as_of_at from {{ ref('int_as_of_date') }}

),

order_stats as (

    select
        customer_key,
        count(*) filter (where not is_cancelled) as n_orders,
        count(*) filter (where is_cancelled) as n_cancelled_orders,
        sum(net_revenue_amount) as net_revenue_amount,
        sum(gross_margin_amount) as gross_margin_amount,
        -- margin is known only where every order's cost is (no cost data: null, never 0)
        count(*) filter (where gross_margin_amount is null) as n_orders_unknown_margin,
        sum(net_revenue_amount) filter (
            where gross_margin_amount is not null
        ) as net_revenue_known_cost_amount,
        sum(refund_amount) as refund_amount,
        min(ordered_at) filter (where not is_cancelled) as first_order_at,
        max(ordered_at) filter (where not is_cancelled) as last_order_at,
        count(*) filter (where is_late_delivery) as n_late_deliveries
    from orders
    where customer_key is not null
    group by customer_key

),

-- the longest gap between two consecutive orders tells a reactivation from steady buying
order_gaps as (

    select
        customer_key,
        max(gap_days) as max_gap_days
    from (
        select
            customer_key,
            {{ days_between(
                'lag(ordered_at) over (partition by customer_key order by ordered_at)',
                'ordered_at'
            ) }} as gap_days
        from orders
        where customer_key is not null and not is_cancelled
    ) as gaps
    group by customer_key

),

latest_nps as (

    select
        customer_key,
        nps_score as latest_nps_score,
        nps_group as latest_nps_group,
        submitted_at as latest_nps_answered_at
    from (
        select
            *,
            row_number() over (
                partition by customer_key order by submitted_at desc, response_id desc
            ) as nps_answer_rank
        from responses
        where customer_key is not null and nps_score is not null
    ) as nps_answers
    where nps_answer_rank = 1

),

survey_stats as (

    select
        customer_key,
        count(*) as n_survey_responses,
        avg(csat_score) as mean_csat_score,
        avg(ces_score) as mean_ces_score,
        count(*) filter (where has_comment) as n_comments,
        count(*) filter (
            where {{ is_attitudinal_response('nps_score', 'csat_score', 'ces_score') }}
        ) as n_scored_responses
    from responses
    where customer_key is not null
    group by customer_key

),

invitation_stats as (

    select
        customer_key,
        count(*) filter (where is_delivered) as n_invitations_delivered,
        count(*) filter (where is_delivered and has_response) as n_invitations_answered
    from invitations
    where customer_key is not null
    group by customer_key

),

case_stats as (

    select
        customer_key,
        count(*) as n_cases,
        avg(resolution_hours) as mean_resolution_hours,
        sum(reopen_count) as n_reopens
    from cases
    where customer_key is not null
    group by customer_key

),

web_stats as (

    select
        customer_key,
        count(*) as n_web_sessions,
        count(*) filter (where has_checkout_start) as n_checkout_starts,
        count(*) filter (where is_checkout_abandoned) as n_abandoned_checkouts
    from sessions
    where customer_key is not null
    group by customer_key

),

referrals as (

    select
        customers.referred_by_customer_key as customer_key,
        count(*) as n_referrals,
        sum(coalesce(order_stats.net_revenue_amount, 0)) as referral_value_amount
    from customers
    left join order_stats
        on customers.customer_key = order_stats.customer_key
    where customers.referred_by_customer_key is not null
    group by customers.referred_by_customer_key

),

joined as (

    select
        customers.customer_key,
        customers.segment,
        customers.industry_vertical,
        customers.country_code,
        customers.age_band,
        customers.acquisition_channel,
        as_of.as_of_at,
        coalesce(order_stats.n_orders, 0) as n_orders,
        coalesce(order_stats.net_revenue_amount, 0) as net_revenue_amount,
        -- no order: a true 0, unless the export carries no cost at all (then nothing is measured)
        case
            when
                {{ cost_is_measured('orders') }}
                and coalesce(order_stats.n_orders_unknown_margin, 0) = 0
                then coalesce(order_stats.gross_margin_amount, 0)
        end as gross_margin_amount,
        order_stats.net_revenue_known_cost_amount,
        coalesce(order_stats.refund_amount, 0) as refund_amount,
        coalesce(order_stats.n_late_deliveries, 0) as n_late_deliveries,
        order_stats.first_order_at,
        order_stats.last_order_at,
        order_gaps.max_gap_days,
        cast(
            {{ days_between('order_stats.last_order_at', 'as_of.as_of_at') }} as bigint
        ) as recency_days,
        greatest({{ days_between('order_stats.first_order_at', 'as_of.as_of_at') }}, 90)
        as tenure_days,
        latest_nps.latest_nps_score,
        latest_nps.latest_nps_group,
        latest_nps.latest_nps_answered_at,
        coalesce(survey_stats.n_survey_responses, 0) as n_survey_responses,
        survey_stats.mean_csat_score,
        survey_stats.mean_ces_score,
        coalesce(survey_stats.n_comments, 0) as n_comments,
        coalesce(survey_stats.n_scored_responses, 0) as n_scored_responses,
        coalesce(invitation_stats.n_invitations_delivered, 0) as n_invitations_delivered,
        coalesce(invitation_stats.n_invitations_answered, 0) as n_invitations_answered,
        {{ count_if_measured('case_stats.n_cases', 'cases') }} as n_cases,
        case_stats.mean_resolution_hours,
        {{ count_if_measured('web_stats.n_web_sessions', 'sessions') }} as n_web_sessions,
        {{ count_if_measured('web_stats.n_checkout_starts', 'sessions') }} as n_checkout_starts,
        {{ count_if_measured('web_stats.n_abandoned_checkouts', 'sessions') }}
            as n_abandoned_checkouts,
        coalesce(referrals.n_referrals, 0) as n_referrals,
        coalesce(referrals.referral_value_amount, 0) as referral_value_amount,
        customers.crm_customer_id is not null as has_crm_profile
    from customers
    cross join as_of
    left join order_stats on customers.customer_key = order_stats.customer_key
    left join order_gaps on customers.customer_key = order_gaps.customer_key
    left join latest_nps on customers.customer_key = latest_nps.customer_key
    left join survey_stats on customers.customer_key = survey_stats.customer_key
    left join invitation_stats on customers.customer_key = invitation_stats.customer_key
    left join case_stats on customers.customer_key = case_stats.customer_key
    left join web_stats on customers.customer_key = web_stats.customer_key
    left join referrals on customers.customer_key = referrals.customer_key

),

scored as (

    select
        *,
        {{ churn_status('first_order_at', 'last_order_at', 'as_of_at') }} as churn_status,
        case
            when n_orders > 0 then ntile(5) over (
                partition by n_orders > 0 order by recency_days desc, customer_key asc
            )
        end as rfm_recency_score,
        case
            when n_orders > 0 then ntile(5) over (
                partition by n_orders > 0 order by n_orders, customer_key
            )
        end as rfm_frequency_score,
        case
            when n_orders > 0 then ntile(5) over (
                partition by n_orders > 0 order by net_revenue_amount, customer_key
            )
        end as rfm_monetary_score,
        -- baseline CLV model (DECISIONLOG.md): orders per year so far x (1 - churn risk) x AOV
        case
            when n_orders > 0 then cast(net_revenue_amount as double) / n_orders
        end as avg_order_value_amount,
        case
            when n_orders = 0 then null
            else least(1.0, cast(recency_days as double) / {{ number_var('churn_days', 180) }})
        end as churn_risk
    from joined

),

final as (

    select
        customer_key,
        segment,
        industry_vertical,
        country_code,
        age_band,
        acquisition_channel,
        case
            when n_orders = 0 then 'prospect'
            when churn_status = 'churned' then 'churned'
            when max_gap_days > {{ number_var('churn_days', 180) }} then 'reactivated'
            when {{ days_between('first_order_at', 'as_of_at') }} <= 90 then 'new'
            when recency_days > {{ number_var('churn_days', 180) }} / 2 then 'at_risk'
            else 'active'
        end as lifecycle_stage,
        churn_status,
        latest_nps_group,
        concat_ws(
            ',',
            case when n_web_sessions > 0 then 'behavioural' end,
            case when n_orders > 0 then 'transactional' end,
            case when n_cases > 0 then 'service' end,
            -- the data-type taxonomy (macros/metrics/data_types.sql): attitudinal = a scored answer
            case when n_scored_responses > 0 then 'attitudinal' end,
            case when n_comments > 0 then 'emotional' end,
            case when has_crm_profile then 'contextual' end
        ) as data_types_present,
        n_orders,
        cast(net_revenue_amount as decimal(18, 2)) as net_revenue_amount,
        cast(gross_margin_amount as decimal(18, 2)) as gross_margin_amount,
        {{ round_half_up(
            '100.0 * cast(net_revenue_known_cost_amount as double) / nullif(net_revenue_amount, 0)', 2
        ) }} as cost_known_revenue_pct,
        {{ round_to_cents('avg_order_value_amount') }} as avg_order_value_amount,
        cast(refund_amount as decimal(18, 2)) as refund_amount,
        recency_days,
        cast(rfm_recency_score as bigint) as rfm_recency_score,
        cast(rfm_frequency_score as bigint) as rfm_frequency_score,
        cast(rfm_monetary_score as bigint) as rfm_monetary_score,
        cast(net_revenue_amount as decimal(18, 2)) as clv_historical_amount,
        -- a customer whose refunds exceed their purchases is worth 0 going forward, not less
        {{ round_to_cents(
            'greatest(coalesce(avg_order_value_amount * n_orders * 365.0 / tenure_days'
            ~ ' * (1 - churn_risk), 0), 0)'
        ) }} as clv_predicted_12m_amount,
        churn_risk,
        n_referrals,
        cast(referral_value_amount as decimal(18, 2)) as referral_value_amount,
        latest_nps_score,
        mean_csat_score,
        mean_ces_score,
        n_survey_responses,
        n_invitations_delivered,
        {{ response_rate_pct('n_invitations_answered', 'n_invitations_delivered') }}
        as response_rate_pct,
        n_cases,
        mean_resolution_hours,
        n_late_deliveries,
        n_web_sessions,
        n_checkout_starts,
        n_abandoned_checkouts,
        case
            when n_checkout_starts > 0
                then 100.0 * cast(n_abandoned_checkouts as double) / n_checkout_starts
        end as checkout_abandonment_pct,
        cast(n_web_sessions > 0 as integer)
        + cast(n_orders > 0 as integer)
        + cast(n_cases > 0 as integer)
        + cast(n_scored_responses > 0 as integer)
        + cast(n_comments > 0 as integer)
        + cast(has_crm_profile as integer) as n_data_types,
        churn_status = 'churned' as is_churned,
        churn_status = 'censored' as is_churn_censored,
        has_crm_profile,
        cast(first_order_at as date) as first_order_date,
        cast(last_order_at as date) as last_order_date,
        cast(as_of_at as date) as as_of_date,
        first_order_at,
        last_order_at,
        latest_nps_answered_at
    from scored

)

select * from final
