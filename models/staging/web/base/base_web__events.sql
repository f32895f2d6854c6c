{{ config(**incremental_by_load_config(['event_id'])) }}

{#-
    Incremental by load (macros/staging/incremental_by_load.sql): a run rewrites whole loads (load_date),
    so the result equals a full refresh. Versions are ranked by event_id.
-#}

with

landing as {{ cte_not_materialized() }} (

    select * from {{ read_source('web', 'events') }}

),
{{ incremental_by_load_scope(['event_id']) }}

source as (

    select landing.*
    from landing
    {{- incremental_by_load_read(['event_id']) }}

),

renamed as (

    select
        ----------  ids
        {{ clean_text('event_id') }} as event_id,
        {{ clean_text('anonymous_id') }} as anonymous_id,
        {{ clean_text('order_id') }} as order_id,

        ----------  strings
        {{ normalise_email('user_email') }} as user_email,
        lower({{ clean_text('event_type') }}) as event_type,
        {{ clean_text('page_path') }} as page_path,
        lower({{ clean_text('device') }}) as device,
        lower({{ clean_text('utm_source') }}) as utm_source,

        ----------  timestamps (raw text kept for the quarantine reason)
        occurred_at_raw,
        occurred_at,

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
            when renamed.event_id is null then 'null_id'
            {{ timestamp_row_reasons('occurred_at') }}
            when renamed.event_type is null
                or renamed.event_type not in (
                    'page_view', 'product_view', 'add_to_cart', 'checkout_start',
                    'checkout_complete', 'support_view', 'search'
                )
                then 'invalid_value'
        end as row_reason

    from renamed

),

flagged as (

    select * from {{ flag_versions('checked', ['event_id']) }}

)

select flagged.*
from flagged
{{- incremental_by_load_written('flagged') }}
