{#-
    One row per support case (case_id), the latest version of the case, with the person behind it
    (customer_key via the CRM customer) and the journey stage of its touchpoint.
-#}

with

stg_crm__cases as (

    select * from {{ ref('stg_crm__cases') }}

),

int_identities_linked as (

    select * from {{ ref('int_identities_linked') }}

),

touchpoints as (

    select * from {{ ref('touchpoints') }}

),

crm_identities as (

    select
        source_id as crm_customer_id,
        customer_key
    from int_identities_linked
    where source_system = 'crm'

),

joined as (

    select
        cases.*,
        crm_identities.customer_key,
        touchpoints.journey_stage,
        cases.case_status = 'closed' as is_closed,
        {{ dbt.datediff('cases.opened_at', 'cases.first_response_at', 'second') }}
            as first_response_seconds,
        {{ dbt.datediff('cases.opened_at', 'cases.closed_at', 'second') }}
            as resolution_seconds
    from stg_crm__cases as cases
    left join crm_identities
        on cases.crm_customer_id = crm_identities.crm_customer_id
    left join touchpoints
        on cases.touchpoint_id = touchpoints.touchpoint_id

),

final as (

    select
        case_id,
        customer_key,
        crm_customer_id,
        order_id,
        touchpoint_id,
        journey_stage,
        case_channel,
        case_category,
        case_priority,
        case_status,
        cast(reopen_count as integer) as reopen_count,
        {{ round_half_up('cast(first_response_seconds as double) / 3600', 2) }}
            as first_response_hours,
        case
            when is_closed then {{ round_half_up('cast(resolution_seconds as double) / 3600', 2) }}
        end as resolution_hours,
        is_closed,
        coalesce(reopen_count > 0, false) as is_reopened,
        cast(opened_at as date) as opened_date,
        opened_at,
        first_response_at,
        closed_at
    from joined

)

select * from final
