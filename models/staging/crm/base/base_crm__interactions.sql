{{ config(**incremental_by_load_config(['interaction_id'])) }}

{#-
    Incremental by load (macros/staging/incremental_by_load.sql): a run rewrites whole loads (load_date),
    so the result equals a full refresh. Versions are ranked by interaction_id.
-#}

with

landing as {{ cte_not_materialized() }} (

    select * from {{ read_source('crm', 'interactions') }}

),
{{ incremental_by_load_scope(['interaction_id']) }}

source as (

    select landing.*
    from landing
    {{- incremental_by_load_read(['interaction_id']) }}

),

renamed as (

    select
        ----------  ids
        {{ clean_text('interaction_id') }} as interaction_id,
        {{ clean_text('crm_customer_id') }} as crm_customer_id,
        {{ clean_text('case_id') }} as case_id,
        {{ clean_text('touchpoint_id') }} as touchpoint_id,

        ----------  strings
        lower({{ clean_text('channel') }}) as interaction_channel,
        lower({{ clean_text('direction') }}) as direction,
        lower({{ clean_text('purpose') }}) as purpose,

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
            when renamed.interaction_id is null then 'null_id'
            {{ timestamp_row_reasons('occurred_at') }}
        end as row_reason

    from renamed

),

flagged as (

    select * from {{ flag_versions('checked', ['interaction_id']) }}

)

select flagged.*
from flagged
{{- incremental_by_load_written('flagged') }}
