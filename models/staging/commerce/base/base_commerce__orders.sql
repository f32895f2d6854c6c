{{ config(**incremental_by_load_config(['order_id'])) }}

{#-
    Incremental by load (macros/staging/incremental_by_load.sql): a run rewrites whole loads (load_date),
    so the result equals a full refresh. Versions are ranked by order_id. The check reads the exchange
    rates (a seed `make refresh-fx` extends monthly), so rule 5 re-runs it over the rows already built.
-#}

{%- set row_reason -%}
    case
        when renamed.order_id is null then 'null_id'
        -- a promised delivery lies in the future by nature: parsed, not compared with the load
        {{ timestamp_row_reasons(
            'ordered_at',
            optional=['promised_delivery_at', 'delivered_at'],
            not_after_load=['delivered_at'],
        ) }}
        when currencies.currency_code is null then 'unknown_currency'
        -- a known currency in a month the ECB rates do not cover
        when
            renamed.ordered_at < cast(currencies.first_rate_month as timestamp)
            or renamed.ordered_at
            >= {{ dbt.dateadd('month', 1, 'cast(currencies.last_rate_month as timestamp)') }}
            then 'no_exchange_rate'
    end
{%- endset -%}

{%- set row_reason_joins -%}
    left join currencies
        on renamed.currency_code = currencies.currency_code
{%- endset %}

with

landing as {{ cte_not_materialized() }} (

    select * from {{ read_source('commerce', 'orders') }}

),

currencies as (

    select
        currency_code,
        min(rate_month) as first_rate_month,
        max(rate_month) as last_rate_month
    from {{ ref('currency_rates') }}
    group by currency_code

),
{{ incremental_by_load_scope(['order_id'], reason=row_reason, reason_joins=row_reason_joins) }}

source as (

    select landing.*
    from landing
    {{- incremental_by_load_read(['order_id']) }}

),

renamed as (

    select
        ----------  ids
        {{ clean_text('order_id') }} as order_id,
        {{ clean_text('shop_customer_id') }} as shop_customer_id,

        ----------  strings
        lower({{ clean_text('channel') }}) as order_channel,
        upper({{ clean_text('currency') }}) as currency_code,
        lower({{ clean_text('status') }}) as order_status,

        ----------  numerics (order currency)
        cast(coalesce(discount_amount, 0) as decimal(18, 2)) as discount_local_amount,
        cast(coalesce(shipping_amount, 0) as decimal(18, 2)) as shipping_local_amount,

        ----------  timestamps (raw text kept for the quarantine reason)
        ordered_at_raw,
        promised_delivery_at_raw,
        delivered_at_raw,
        ordered_at,
        promised_delivery_at,
        delivered_at,

        ----------  load metadata
        _uncastable_columns,
        _loaded_at,
        load_date

    from source

),

checked as (

    select
        renamed.*,
        {{ row_reason }} as row_reason

    from renamed
    {{ row_reason_joins }}

),

flagged as (

    select * from {{ flag_versions('checked', ['order_id']) }}

)

select flagged.*
from flagged
{{- incremental_by_load_written('flagged') }}
