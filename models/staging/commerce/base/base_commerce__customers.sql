{{ config(**incremental_by_load_config(['shop_customer_id'])) }}

{#-
    Incremental by load (macros/staging/incremental_by_load.sql): a run rewrites whole loads (load_date),
    so the result equals a full refresh. Versions are ranked by shop_customer_id.
-#}

with

landing as {{ cte_not_materialized() }} (

    select * from {{ read_source('commerce', 'customers') }}

),
{{ incremental_by_load_scope(['shop_customer_id']) }}

source as (

    select landing.*
    from landing
    {{- incremental_by_load_read(['shop_customer_id']) }}

),

renamed as (

    select
        ----------  ids
        {{ clean_text('shop_customer_id') }} as shop_customer_id,

        ----------  strings (identity keys; the shop knows no country, so national phones stay null)
        {{ normalise_email('email') }} as email,
        {{ clean_text('phone') }} as phone,
        {{ normalise_phone('phone') }} as phone_e164,

        ----------  timestamps (raw text kept for the quarantine reason)
        created_at_raw,
        created_at,

        ----------  load metadata
        _uncastable_columns,
        _loaded_at,
        load_date

    from source

),

checked as (

    select
        renamed.*,
        case
            when renamed.shop_customer_id is null then 'null_id'
            {{ timestamp_row_reasons('created_at') }}
        end as row_reason

    from renamed

),

flagged as (

    select * from {{ flag_versions('checked', ['shop_customer_id']) }}

)

select flagged.*
from flagged
{{- incremental_by_load_written('flagged') }}
