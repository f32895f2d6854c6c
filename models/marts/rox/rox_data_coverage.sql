{#-
    One row per journey_stage (journey_stages seed) x data_type: how much we know about each stage of
    the journey, for how many customers and how fresh it is; a cell without any row is a gap (where
    we are blind). Every combination is present, with zeros when there is no data. Rows after the
    as-of date (int_as_of_date) are not counted. Mapping (see the model YAML):
    behavioural = web/app sessions, transactional = orders placed and deliveries, service = support
    cases and CRM interactions, all at the stage fct_journey_events gives them; attitudinal = survey
    responses with a valid NPS, CSAT or CES score and emotional = comments (fct_feedback_verbatims),
    both at the stage of the survey's touchpoint; contextual = CRM profiles (dim_customers, non-PII
    columns only), at the awareness stage. The taxonomy is macros/metrics/data_types.sql, shared with
    fct_customer.data_types_present.
-#}

{%- set grid_data_types = data_types() %}

with

events as (

    select * from {{ ref('fct_journey_events') }}

),

responses as (

    select * from {{ ref('fct_survey_responses') }}

),

verbatims as (

    select * from {{ ref('fct_feedback_verbatims') }}

),

profiles as (

    select * from {{ ref('dim_customers') }}

),

stages as (

    select * from {{ ref('journey_stages') }}

),

as_of as (

    select
        (select as_of_dates.as_of_at from {{ ref('int_as_of_date') }} as as_of_dates) as as_of_at,
        -- every customer_key (dim_customers has one row per customer, as fct_customer)
        count(*) as n_customers_total
    from profiles

),

data_types as (

    {% for data_type in grid_data_types -%}
        {% if not loop.first -%}
            union all
        {% endif -%}
        select
            '{{ data_type }}' as data_type,
            {{ loop.index }} as data_type_order
    {% endfor %}

),

observations as (

    select
        journey_stage,
        {{ event_data_type('event_source') }} as data_type,
        customer_key,
        occurred_at
    from events
    where event_source <> 'survey_response'

    union all

    select
        journey_stage,
        'attitudinal' as data_type,
        customer_key,
        submitted_at as occurred_at
    from responses
    where {{ is_attitudinal_response('nps_score', 'csat_score', 'ces_score') }}

    union all

    select
        journey_stage,
        'emotional' as data_type,
        customer_key,
        submitted_at as occurred_at
    from verbatims

    union all

    -- who the customer is (segment, industry, country, acquisition channel): known from acquisition
    select
        'awareness' as journey_stage,
        'contextual' as data_type,
        customer_key,
        crm_updated_at as occurred_at
    from profiles
    where has_crm_profile

),

-- codes the seeds do not know put rows on an `unmapped` stage, shown after the seed's stages
-- when it has rows
all_stages as (

    select
        journey_stage,
        stage_name,
        stage_order
    from stages

    union all

    select
        'unmapped' as journey_stage,
        'Unmapped (codes the seeds do not know)' as stage_name,
        99 as stage_order
    from (
        select count(*) as n_unmapped from observations
        where journey_stage = 'unmapped'
    ) as unmapped
    where unmapped.n_unmapped > 0

),

-- a data type with no row at any stage was not delivered at all (no web export, no CRM cases ...)
delivered as (

    select
        data_type,
        count(*) as n_rows_any_stage
    from observations
    group by data_type

),

cell_stats as (

    select
        observations.journey_stage,
        observations.data_type,
        count(*) as n_rows,
        count(distinct observations.customer_key) as n_customers,
        max(observations.occurred_at) as last_event_at
    from observations
    cross join as_of
    where observations.occurred_at <= as_of.as_of_at
    group by observations.journey_stage, observations.data_type

),

final as (

    select
        all_stages.journey_stage,
        data_types.data_type,
        all_stages.stage_name,
        cast(all_stages.stage_order as integer) as stage_order,
        cast(data_types.data_type_order as integer) as data_type_order,
        cast(coalesce(cell_stats.n_rows, 0) as bigint) as n_rows,
        cast(coalesce(cell_stats.n_customers, 0) as bigint) as n_customers,
        coalesce(
            {{ round_half_up(
                '100.0 * cast(cell_stats.n_customers as double)'
                ~ ' / nullif(as_of.n_customers_total, 0)',
                2
            ) }},
            0
        ) as customers_covered_pct,
        cast(
            {{ dbt.datediff('cell_stats.last_event_at', 'as_of.as_of_at', 'day') }}
            as integer
        ) as freshness_days,
        coalesce(cell_stats.n_rows, 0) = 0 as is_gap,
        case
            when all_stages.journey_stage = 'unmapped' and cell_stats.n_rows > 0
                then 'unmapped_codes'
            when delivered.data_type is null then 'not_delivered'
            when cell_stats.n_rows is null then 'no_rows_at_stage'
        end as gap_reason,
        cast(as_of.as_of_at as date) as as_of_date,
        cell_stats.last_event_at
    from all_stages
    cross join data_types
    cross join as_of
    left join delivered on data_types.data_type = delivered.data_type
    left join cell_stats
        on
            all_stages.journey_stage = cell_stats.journey_stage
            and data_types.data_type = cell_stats.data_type

)

select * from final
