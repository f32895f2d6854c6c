{{ config(**incremental_by_load_config()) }}

{#-
    Incremental by load: a run rewrites whole loads (load_date), so the result equals a full refresh.
    The loads it rewrites: those `incremental_load_selected()` picks (by default every load from
    `incremental_first_load_date()` on: new and recently re-delivered ones; `insight-engine run --since`
    and `--load-date` choose others, see macros/staging/incremental_by_load.sql; and always every load
    the table has never read, however old: a late or out-of-order delivery), plus every older load
    holding an event id that those loads deliver or used to hold (its rows may become, or stop being,
    `superseded`). Ranking a version needs every version of its id, so the rows read are those of the
    rewritten loads plus all rows sharing their ids.
-#}

with

landing as (

    select * from {{ read_source('web', 'events') }}

),

{% if is_incremental() %}

cutoff as (

    select
        {{ incremental_first_load_date() }} as first_load_date,
        {{ incremental_last_load_date() }} as last_load_date,
        coalesce(max(load_date), cast('1899-12-31' as date)) as newest_load_date
    from {{ this }}

),

built_loads as (

    select distinct load_date
    from {{ this }}

),

unseen_loads as (

    -- loads the table has never read, however old: a load delivered late, out of order
    select distinct landing.load_date
    from landing
    left join built_loads
        on landing.load_date = built_loads.load_date
    where built_loads.load_date is null

),

recent_ids as (

    select {{ clean_text('landing.event_id') }} as event_id
    from landing
    where {{ incremental_load_selected('landing.load_date') }}

    union

    select event_id
    from {{ this }}
    where {{ incremental_load_selected('load_date') }}

),

rewritten_loads as (

    select distinct load_date
    from landing
    where {{ incremental_load_selected('load_date') }}

    union

    select distinct existing.load_date
    from {{ this }} as existing
    inner join recent_ids
        on existing.event_id = recent_ids.event_id

),

rewritten_ids as (

    select distinct {{ clean_text('landing.event_id') }} as event_id
    from landing
    inner join rewritten_loads
        on landing.load_date = rewritten_loads.load_date

),

{% endif %}

source as (

    select landing.*
    from landing
    {%- if is_incremental() %}
    left join rewritten_loads
        on landing.load_date = rewritten_loads.load_date
    left join rewritten_ids
        on {{ clean_text('landing.event_id') }} = rewritten_ids.event_id
    where rewritten_loads.load_date is not null
        or rewritten_ids.event_id is not null
    {%- endif %}

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
{%- if is_incremental() %}
    -- rows read only to rank their id's versions stay as they are in the table
    inner join rewritten_loads
        on flagged.load_date = rewritten_loads.load_date
{%- endif %}
