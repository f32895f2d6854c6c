{#-
    The one "as of" instant every model measures at (churn, lifecycle, CLV, age, closed-loop status,
    complete 12-month windows, coverage freshness): var as_of_date when it is set, else the day after
    the newest order, else (a survey-only export) the day after the newest survey answer, else today.
    One row.
-#}

with

orders as (

    select * from {{ ref('stg_commerce__orders') }}

),

responses as (

    select * from {{ ref('stg_survey__responses') }}

),

newest as (

    select
        (select max(cast(orders.ordered_at as date)) from orders) as newest_order_date,
        (select max(cast(responses.submitted_at as date)) from responses) as newest_response_date

),

final as (

    select
        {%- if var('as_of_date') %}
        cast('{{ _load_date_var("as_of_date") }}' as timestamp) as as_of_at
        {%- else %}
            coalesce(
                {{ dbt.dateadd('day', 1, 'cast(newest_order_date as timestamp)') }},
                {{ dbt.dateadd('day', 1, 'cast(newest_response_date as timestamp)') }},
                cast(current_date as timestamp)
            ) as as_of_at
        {%- endif %}
    from newest

)

select
    as_of_at,
    cast(as_of_at as date) as as_of_date
from final
