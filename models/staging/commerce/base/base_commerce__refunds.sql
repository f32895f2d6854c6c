{{ config(**incremental_by_load_config(['refund_id'])) }}

{#-
    Incremental by load (macros/staging/incremental_by_load.sql): a run rewrites whole loads (load_date),
    so the result equals a full refresh. Versions are ranked by refund_id.
-#}

with

landing as {{ cte_not_materialized() }} (

    select * from {{ read_source('commerce', 'refunds') }}

),
{{ incremental_by_load_scope(['refund_id']) }}

source as (

    select landing.*
    from landing
    {{- incremental_by_load_read(['refund_id']) }}

),

renamed as (

    select
        ----------  ids
        {{ clean_text('refund_id') }} as refund_id,
        {{ clean_text('order_id') }} as order_id,
        {{ clean_text('order_line_id') }} as order_line_id,

        ----------  strings
        lower({{ clean_text('reason') }}) as refund_reason,

        ----------  numerics (order currency)
        cast(amount as decimal(18, 2)) as refund_local_amount,

        ----------  timestamps (raw text kept for the quarantine reason)
        refunded_at_raw,
        refunded_at,

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
            when renamed.refund_id is null then 'null_id'
            {{ timestamp_row_reasons('refunded_at') }}
        end as row_reason

    from renamed

),

flagged as (

    select * from {{ flag_versions('checked', ['refund_id']) }}

)

select flagged.*
from flagged
{{- incremental_by_load_written('flagged') }}
