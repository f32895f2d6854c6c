{{ config(**incremental_by_load_config(['product_id'])) }}

{#-
    Incremental by load (macros/staging/incremental_by_load.sql): a run rewrites whole loads (load_date),
    so the result equals a full refresh. Versions are ranked by product_id. The check reads the exchange
    rates' currencies (a seed `make refresh-fx` rewrites), so rule 5 re-runs it over the rows already built.
-#}

{%- set row_reason -%}
    case
        when renamed.product_id is null then 'null_id'
        {{ uncastable_row_reason() }}
        when currencies.currency_code is null then 'unknown_currency'
    end
{%- endset -%}

{%- set row_reason_joins -%}
    left join currencies
        on renamed.currency_code = currencies.currency_code
{%- endset %}

with

landing as {{ cte_not_materialized() }} (

    select * from {{ read_source('commerce', 'products') }}

),

currencies as (

    select distinct currency_code from {{ ref('currency_rates') }}

),
{{ incremental_by_load_scope(['product_id'], reason=row_reason, reason_joins=row_reason_joins) }}

source as (

    select landing.*
    from landing
    {{- incremental_by_load_read(['product_id']) }}

),

renamed as (

    select
        ----------  ids
        {{ clean_text('product_id') }} as product_id,

        ----------  strings
        {{ clean_text('name') }} as product_name,
        lower({{ clean_text('category') }}) as product_category,
        upper({{ clean_text('currency') }}) as currency_code,

        ----------  numerics (product currency; a missing cost column reads as null)
        cast(list_price as decimal(18, 2)) as list_price_amount,
        cast(unit_cost as decimal(18, 2)) as unit_cost_amount,

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

    select * from {{ flag_versions('checked', ['product_id']) }}

)

select flagged.*
from flagged
{{- incremental_by_load_written('flagged') }}
