{{ config(materialized='table') }}

{#- A table, not a view: int_order_lines_joined, fct_orders and this model's tests each read it,
    and as a view each read computed its joins again (DECISIONLOG.md, "Intermediate joins read
    several times are tables"). -#}

{#-
    One row per order_id of stg_commerce__orders, with what every order fact needs beside the order
    itself: the buyer's customer_key (null when the shop account is unknown to identity resolution)
    and the two exchange rates of the order month (order currency and reporting currency, both in
    units per USD). Amounts stay in the order currency; the marts convert them.
-#}

with

stg_commerce__orders as (

    select * from {{ ref('stg_commerce__orders') }}

),

int_identities_linked as (

    select * from {{ ref('int_identities_linked') }}

),

currency_rates as (

    select * from {{ ref('currency_rates') }}

),

shop_identities as (

    select
        source_id as shop_customer_id,
        customer_key
    from int_identities_linked
    where source_system = 'commerce'

),

reporting_rates as (

    select
        rate_month,
        units_per_usd
    from currency_rates
    where currency_code = '{{ currency_var("reporting_currency") }}'

),

orders as (

    select
        *,
        cast({{ dbt.date_trunc('month', 'ordered_at') }} as date) as rate_month
    from stg_commerce__orders

),

final as (

    select
        orders.order_id,
        shop_identities.customer_key,
        orders.shop_customer_id,
        orders.order_channel,
        orders.order_status,
        orders.currency_code,
        orders.discount_local_amount,
        orders.shipping_local_amount,
        order_rates.units_per_usd as order_units_per_usd,
        reporting_rates.units_per_usd as reporting_units_per_usd,
        orders.order_status = 'cancelled' as is_cancelled,
        orders.rate_month,
        orders.ordered_at,
        orders.promised_delivery_at,
        orders.delivered_at
    from orders
    left join shop_identities
        on orders.shop_customer_id = shop_identities.shop_customer_id
    left join currency_rates as order_rates
        on
            orders.currency_code = order_rates.currency_code
            and orders.rate_month = order_rates.rate_month
    left join reporting_rates
        on orders.rate_month = reporting_rates.rate_month

)

select * from final
