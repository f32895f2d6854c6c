{{ config(materialized='table') }}

with

source as (

    select * from {{ read_source('commerce', 'refunds') }}

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

)

select * from {{ flag_versions('checked', ['refund_id']) }}
