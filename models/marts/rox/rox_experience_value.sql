{#-
    BI's proof that experience pays. One row per experience_metric x experience_group x segment x
    industry_vertical x cohort, with rollup rows where segment, industry_vertical and/or cohort are 'all'.
    Two units are counted (DECISIONLOG.md, "RoX experience value"):
    - customers: each customer once per slice and metric, in the group of their latest answer in the
      slice (n_customers, customer_share_pct, mean CLV, revenue at risk);
    - answers: every valid answer in the slice, each with its own 12-month window (n_responses,
      share_pct, window counts, the 12-month means and rates; complete windows only).
-#}

with

int_survey_responses_outcomes as (

    select * from {{ ref('int_survey_responses_outcomes') }}

),

fct_customer as (

    select * from {{ ref('fct_customer') }}

),

experience_metrics as (

    select 'nps' as experience_metric

    union all

    select 'csat' as experience_metric

    union all

    select 'ces' as experience_metric

),

-- one row per response and metric answered: the metric's group is the experience_group
answers as (

    select
        responses.response_id,
        responses.customer_key,
        experience_metrics.experience_metric,
        case experience_metrics.experience_metric
            when 'nps' then responses.nps_group
            when 'csat' then responses.csat_band
            when 'ces' then responses.ces_band
        end as experience_group,
        coalesce(responses.segment, 'unknown') as slice_segment,
        coalesce(responses.industry_vertical, 'unknown') as slice_industry_vertical,
        responses.net_revenue_12m_amount,
        responses.gross_margin_12m_amount,
        responses.net_revenue_known_cost_12m_amount,
        responses.refund_12m_amount,
        responses.n_orders_12m,
        responses.n_cases_12m,
        responses.n_referrals_12m,
        responses.referral_value_12m_amount,
        responses.has_repeat_purchase_12m,
        responses.is_retained_12m,
        responses.is_churned_12m,
        responses.is_window_complete,
        responses.cohort_month,
        responses.submitted_at
    from int_survey_responses_outcomes as responses
    cross join experience_metrics

),

-- the customer's latest answer of the metric, overall and within its cohort month
ranked as (

    select
        answers.*,
        fct_customer.clv_predicted_12m_amount,
        fct_customer.clv_historical_amount,
        row_number() over (
            partition by answers.customer_key, answers.experience_metric
            order by answers.submitted_at desc, answers.response_id desc
        ) = 1 as is_latest_overall,
        row_number() over (
            partition by answers.customer_key, answers.experience_metric, answers.cohort_month
            order by answers.submitted_at desc, answers.response_id desc
        ) = 1 as is_latest_in_month
    from answers
    left join fct_customer
        on answers.customer_key = fct_customer.customer_key
    where answers.experience_group is not null

),

-- every answer twice: in its month's cohort and in the all-months cohort
stacked as (

    select
        *,
        substr(cast(cohort_month as {{ dbt.type_string() }}), 1, 7) as cohort,
        is_latest_in_month as is_customer_latest
    from ranked

    union all

    select
        *,
        'all' as cohort,
        is_latest_overall as is_customer_latest
    from ranked

),

-- the four segment x vertical rollups (portable and lintable, unlike grouping sets)
rollups as (

    select
        false as is_all_segments,
        false as is_all_verticals

    union all

    select
        false as is_all_segments,
        true as is_all_verticals

    union all

    select
        true as is_all_segments,
        false as is_all_verticals

    union all

    select
        true as is_all_segments,
        true as is_all_verticals

),

sliced as (

    select
        stacked.*,
        case when rollups.is_all_segments then 'all' else stacked.slice_segment end as segment,
        case
            when rollups.is_all_verticals then 'all' else stacked.slice_industry_vertical
        end as industry_vertical
    from stacked
    cross join rollups

),

aggregated as (

    select
        experience_metric,
        experience_group,
        segment,
        industry_vertical,
        cohort,
        count(distinct case when is_customer_latest then customer_key end) as n_customers,
        count(*) as n_responses,
        count(case when is_window_complete then 1 end) as n_complete_windows,
        count(case when not is_window_complete then 1 end) as n_incomplete_windows,
        avg(case when is_window_complete then cast(net_revenue_12m_amount as double) end)
            as mean_net_revenue,
        avg(case when is_window_complete then cast(gross_margin_12m_amount as double) end)
            as mean_gross_margin,
        sum(case when is_window_complete then cast(net_revenue_known_cost_12m_amount as double) end)
            as sum_net_revenue_known_cost,
        sum(case when is_window_complete then cast(net_revenue_12m_amount as double) end)
            as sum_net_revenue,
        avg(case when is_window_complete then n_orders_12m end) as mean_orders_12m,
        avg(case when is_window_complete then cast(refund_12m_amount as double) end) as mean_refund,
        avg(case when is_window_complete then n_cases_12m end) as mean_cases_12m,
        avg(case when is_window_complete then n_referrals_12m end) as mean_referrals_12m,
        avg(case when is_window_complete then cast(referral_value_12m_amount as double) end)
            as mean_referral_value,
        count(case when is_window_complete and is_retained_12m then 1 end) as n_retained,
        count(case when is_window_complete and is_retained_12m is not null then 1 end)
            as n_retention_base,
        count(case when is_window_complete and n_orders_12m >= 2 then 1 end) as n_repeat_buyers,
        count(case when is_window_complete and n_orders_12m >= 1 then 1 end) as n_buyers,
        count(case when is_window_complete and is_churned_12m then 1 end) as n_churned,
        count(case when is_window_complete and is_churned_12m is not null then 1 end)
            as n_churn_base,
        avg(case when is_customer_latest then cast(clv_predicted_12m_amount as double) end)
            as mean_clv_predicted,
        avg(case when is_customer_latest then cast(clv_historical_amount as double) end)
            as mean_clv_historical
    from sliced
    group by experience_metric, experience_group, segment, industry_vertical, cohort

),

rated as (

    select
        *,
        100.0 * cast(n_retained as double) / nullif(n_retention_base, 0) as retention_rate_pct,
        100.0 * cast(n_repeat_buyers as double) / nullif(n_buyers, 0) as repeat_purchase_rate_pct,
        100.0 * cast(n_churned as double) / nullif(n_churn_base, 0) as churn_rate_pct,
        100.0 * cast(n_responses as double) / sum(n_responses) over (
            partition by experience_metric, segment, industry_vertical, cohort
        ) as share_pct,
        100.0 * cast(n_customers as double) / nullif(sum(n_customers) over (
            partition by experience_metric, segment, industry_vertical, cohort
        ), 0) as customer_share_pct
    from aggregated

),

-- promoters and detractors of the slice side by side, for the value ratio and revenue at risk
nps_slices as (

    select
        segment,
        industry_vertical,
        cohort,
        max(case when experience_group = 'promoter' then mean_net_revenue end)
            as promoter_mean_net_revenue,
        max(case when experience_group = 'promoter' then retention_rate_pct end)
            as promoter_retention_rate_pct,
        max(case when experience_group = 'detractor' then mean_net_revenue end)
            as detractor_mean_net_revenue,
        max(case when experience_group = 'detractor' then retention_rate_pct end)
            as detractor_retention_rate_pct,
        max(case when experience_group = 'detractor' then n_customers end) as n_detractors
    from rated
    where experience_metric = 'nps'
    group by segment, industry_vertical, cohort

),

nps_value as (

    select
        -- the metric these figures belong to, as a join key: a condition on `rated` alone in the
        -- left join's ON made DuckDB plan a nested-loop join
        'nps' as experience_metric,
        segment,
        industry_vertical,
        cohort,
        case
            when detractor_mean_net_revenue > 0
                then promoter_mean_net_revenue / detractor_mean_net_revenue
        end as promoter_detractor_value_ratio,
        -- DECISIONLOG.md: detractors x their mean 12-month revenue x their relative retention gap
        n_detractors * detractor_mean_net_revenue * greatest(
            1.0 - detractor_retention_rate_pct / nullif(promoter_retention_rate_pct, 0), 0.0
        ) as revenue_at_risk
    from nps_slices

),

final as (

    select
        rated.experience_metric,
        rated.experience_group,
        rated.segment,
        rated.industry_vertical,
        rated.cohort,
        cast(rated.n_customers as bigint) as n_customers,
        cast(rated.n_responses as bigint) as n_responses,
        cast(rated.share_pct as double) as share_pct,
        cast(rated.customer_share_pct as double) as customer_share_pct,
        cast(rated.n_complete_windows as bigint) as n_complete_windows,
        cast(rated.n_incomplete_windows as bigint) as n_incomplete_windows,
        {{ round_to_cents('rated.mean_net_revenue') }} as mean_net_revenue_12m_amount,
        {{ round_to_cents('rated.mean_gross_margin') }} as mean_gross_margin_12m_amount,
        {{ round_half_up(
            '100.0 * rated.sum_net_revenue_known_cost / nullif(rated.sum_net_revenue, 0)', 2
        ) }} as cost_known_revenue_pct,
        cast(rated.mean_orders_12m as double) as mean_orders_12m,
        {{ round_to_cents('rated.mean_refund') }} as mean_refund_12m_amount,
        cast(rated.mean_cases_12m as double) as mean_cases_12m,
        cast(rated.mean_referrals_12m as double) as mean_referrals_12m,
        {{ round_to_cents('rated.mean_referral_value') }} as mean_referral_value_12m_amount,
        cast(rated.retention_rate_pct as double) as retention_rate_pct,
        cast(rated.repeat_purchase_rate_pct as double) as repeat_purchase_rate_pct,
        cast(rated.churn_rate_pct as double) as churn_rate_pct,
        {{ round_to_cents('rated.mean_clv_predicted') }} as mean_clv_predicted_12m_amount,
        {{ round_to_cents('rated.mean_clv_historical') }} as mean_clv_historical_amount,
        cast(nps_value.promoter_detractor_value_ratio as double)
            as promoter_detractor_value_ratio,
        {{ round_to_cents('nps_value.revenue_at_risk') }} as revenue_at_risk_amount,
        {{ is_low_confidence('rated.n_complete_windows') }} as is_low_confidence,
        case
            when rated.cohort <> 'all' then cast(rated.cohort || '-01' as date)
        end as cohort_month
    from rated
    left join nps_value
        on
            rated.experience_metric = nps_value.experience_metric
            and rated.segment = nps_value.segment
            and rated.industry_vertical = nps_value.industry_vertical
            and rated.cohort = nps_value.cohort

)

select * from final
