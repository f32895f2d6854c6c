{#-
    One row per day x segment x touchpoint_id x invitation_channel: a complete date spine (every day
    between the first and the last data day) for every combination that ever had an invitation or a
    response, so days without answers are rows with zero counts, never gaps. Daily additive counts,
    their rolling 30- and 90-day sums, and the metrics computed from those sums (never an average of
    daily metrics). Because the spine has no gaps, a window of N rows is a window of N days.
-#}

{%- set windows = [30, 90] %}
{%- set suffixes = ['', '_30d', '_90d'] %}
{%- set counts = [
    'n_invitations_delivered',
    'n_invitations_responded',
    'n_responses',
    'n_nps',
    'n_promoters',
    'n_detractors',
    'n_csat',
    'n_csat_satisfied',
    'n_ces',
    'n_ces_easy',
    'ces_score_sum',
    'ces_score_sq_sum',
] %}
{#- (count, window days) pairs of the rolling sums, in column order -#}
{%- set rolled = [] %}
{%- for days in windows %}
    {%- for count in counts %}
        {%- do rolled.append((count, days)) %}
    {%- endfor %}
{%- endfor %}

with

fct_survey_invitations as (

    select * from {{ ref('fct_survey_invitations') }}

),

fct_survey_responses as (

    select * from {{ ref('fct_survey_responses') }}

),

dim_customers as (

    select * from {{ ref('dim_customers') }}

),

dim_date as (

    select * from {{ ref('dim_date') }}

),

-- the non-PII profile column the scorecard slices by
segments as (

    select
        customer_key,
        segment
    from dim_customers

),

-- invitations by the day they were sent: the response-rate cohorts
invitation_days as (

    select
        coalesce(segments.segment, 'unknown') as segment,
        coalesce(invitations.touchpoint_id, 'unknown') as touchpoint_id,
        coalesce(invitations.invitation_channel, 'unknown') as invitation_channel,
        invitations.sent_date as date_day,
        count(case when invitations.is_delivered then 1 end) as n_invitations_delivered,
        count(
            case when invitations.is_delivered and invitations.has_response then 1 end
        ) as n_invitations_responded
    from fct_survey_invitations as invitations
    left join segments
        on invitations.customer_key = segments.customer_key
    group by 1, 2, 3, 4

),

-- responses by the day they were submitted (anonymous web-intercept responses included)
response_days as (

    select
        coalesce(segments.segment, 'unknown') as segment,
        coalesce(responses.touchpoint_id, 'unknown') as touchpoint_id,
        coalesce(responses.invitation_channel, 'unknown') as invitation_channel,
        responses.submitted_date as date_day,
        count(*) as n_responses,
        count(responses.nps_score) as n_nps,
        count(case when responses.nps_group = 'promoter' then 1 end) as n_promoters,
        count(case when responses.nps_group = 'detractor' then 1 end) as n_detractors,
        count(responses.csat_score) as n_csat,
        count(case when responses.is_csat_satisfied then 1 end) as n_csat_satisfied,
        count(responses.ces_score) as n_ces,
        count(case when responses.is_ces_easy then 1 end) as n_ces_easy,
        coalesce(sum(responses.ces_score), 0) as ces_score_sum,
        coalesce(sum(responses.ces_score * responses.ces_score), 0) as ces_score_sq_sum
    from fct_survey_responses as responses
    left join segments
        on responses.customer_key = segments.customer_key
    group by 1, 2, 3, 4

),

data_days as (

    select date_day from invitation_days
    union all
    select date_day from response_days

),

bounds as (

    select
        min(date_day) as first_date,
        max(date_day) as last_date
    from data_days

),

spine as (

    select
        dim_date.date_day,
        row_number() over (order by dim_date.date_day) as day_number
    from dim_date
    inner join bounds
        on dim_date.date_day between bounds.first_date and bounds.last_date

),

combinations as (

    select
        segment,
        touchpoint_id,
        invitation_channel
    from invitation_days
    union
    select
        segment,
        touchpoint_id,
        invitation_channel
    from response_days

),

daily as (

    select
        spine.date_day,
        combinations.segment,
        combinations.touchpoint_id,
        combinations.invitation_channel,
        spine.day_number,
        coalesce(invitation_days.n_invitations_delivered, 0) as n_invitations_delivered,
        coalesce(invitation_days.n_invitations_responded, 0) as n_invitations_responded,
        coalesce(response_days.n_responses, 0) as n_responses,
        coalesce(response_days.n_nps, 0) as n_nps,
        coalesce(response_days.n_promoters, 0) as n_promoters,
        coalesce(response_days.n_detractors, 0) as n_detractors,
        coalesce(response_days.n_csat, 0) as n_csat,
        coalesce(response_days.n_csat_satisfied, 0) as n_csat_satisfied,
        coalesce(response_days.n_ces, 0) as n_ces,
        coalesce(response_days.n_ces_easy, 0) as n_ces_easy,
        coalesce(response_days.ces_score_sum, 0) as ces_score_sum,
        coalesce(response_days.ces_score_sq_sum, 0) as ces_score_sq_sum
    from combinations
    cross join spine
    left join invitation_days
        on
            combinations.segment = invitation_days.segment
            and combinations.touchpoint_id = invitation_days.touchpoint_id
            and combinations.invitation_channel = invitation_days.invitation_channel
            and spine.date_day = invitation_days.date_day
    left join response_days
        on
            combinations.segment = response_days.segment
            and combinations.touchpoint_id = response_days.touchpoint_id
            and combinations.invitation_channel = response_days.invitation_channel
            and spine.date_day = response_days.date_day

),

-- rolling sums over the last 30 / 90 rows = days (the spine has no gaps)
rolling as (

    select
        date_day,
        segment,
        touchpoint_id,
        invitation_channel,
        {%- for count in counts %}
            {{ count }},
        {%- endfor %}
        {%- for count, days in rolled %}
            sum({{ count }}) over (
                partition by segment, touchpoint_id, invitation_channel
                order by date_day
                rows between {{ days - 1 }} preceding and current row
            ) as {{ count }}_{{ days }}d,
        {%- endfor %}
        day_number
    from daily

),

final as (

    select
        date_day,
        segment,
        touchpoint_id,
        invitation_channel,
        {%- for count in counts %}
            cast({{ count }} as bigint) as {{ count }},
        {%- endfor %}
        {%- for count, days in rolled %}
            cast({{ count }}_{{ days }}d as bigint) as {{ count }}_{{ days }}d,
        {%- endfor %}
        {%- for sfx in suffixes %}
            cast(
                {{ nps_score('n_promoters' ~ sfx, 'n_detractors' ~ sfx, 'n_nps' ~ sfx) }}
                as double
            ) as nps{{ sfx }},
            cast(
                {{ nps_margin_of_error('n_promoters' ~ sfx, 'n_detractors' ~ sfx, 'n_nps' ~ sfx) }}
                as double
            ) as nps_margin_of_error{{ sfx }},
            cast(
                {{ csat_pct('n_csat_satisfied' ~ sfx, 'n_csat' ~ sfx) }} as double
            ) as csat_pct{{ sfx }},
            cast(
                {{ proportion_margin_of_error('n_csat_satisfied' ~ sfx, 'n_csat' ~ sfx) }} as double
            ) as csat_margin_of_error{{ sfx }},
            cast(
                case
                    when n_ces{{ sfx }} > 0
                        then cast(ces_score_sum{{ sfx }} as double) / n_ces{{ sfx }}  -- noqa: LT02
                end
                as double
            ) as ces_mean{{ sfx }},
            cast(
                {{ mean_margin_of_error(
                    'ces_score_sum' ~ sfx, 'ces_score_sq_sum' ~ sfx, 'n_ces' ~ sfx
                ) }}
                as double
            ) as ces_margin_of_error{{ sfx }},
            cast(
                {{ ces_easy_pct('n_ces_easy' ~ sfx, 'n_ces' ~ sfx) }} as double
            ) as ces_easy_pct{{ sfx }},
            cast(
                {{ response_rate_pct(
                    'n_invitations_responded' ~ sfx, 'n_invitations_delivered' ~ sfx
                ) }}
                as double
            ) as response_rate_pct{{ sfx }},
        {%- endfor %}
        {%- for sfx in suffixes %}
            {{ is_low_confidence('n_nps' ~ sfx) }} as is_low_confidence{{ sfx }},
        {%- endfor %}
        day_number >= 30 as has_full_30d_window,
        day_number >= 90 as has_full_90d_window
    from rolling

)

select * from final
