{#- Incremental by load on DuckDB (not a view: on Spark the view's text, 14 tables x every
    column, exceeds the Hive metastore's 32,700-character limit for a view definition). Its
    grain holds `load_date`, and a load's counts read nothing but that load, so a run rewrites
    the loads it selects (new loads, the lookback window, `--since` / `--load-date`, and every
    table's loads this model has never read) for every table, and reads only those loads'
    rows: the result equals a full refresh (tests/python/test_incremental.py). It was the
    slowest node of a daily run but one (18 s at scale m, reading every load of every table).
    Spark rebuilds it whole (fill_rates_config): there the load filter's subquery is planned
    once per table CTE (DECISIONLOG.md). -#}
{{ config(**fill_rates_config()) }}

{#-
    One row per contract table x column x load: rows delivered and rows with a value, read through
    read_source() like every base model (so an absent optional column counts 0 filled, and text that is
    blank counts as empty). The raw gate reports the same fill rates before the build; this model keeps
    them in the warehouse, for quality_column_fill_rates. Sources are only read in staging.
-#}

{#- dbt fills `graph` only at run time, so the lineage to every source is stated here; the run fails
    if a contract table is missing from this list. -#}
-- depends_on: {{ source('commerce', 'customers') }}
-- depends_on: {{ source('commerce', 'order_lines') }}
-- depends_on: {{ source('commerce', 'orders') }}
-- depends_on: {{ source('commerce', 'products') }}
-- depends_on: {{ source('commerce', 'refunds') }}
-- depends_on: {{ source('crm', 'cases') }}
-- depends_on: {{ source('crm', 'customers') }}
-- depends_on: {{ source('crm', 'interactions') }}
-- depends_on: {{ source('survey', 'answers') }}
-- depends_on: {{ source('survey', 'invitations') }}
-- depends_on: {{ source('survey', 'questions') }}
-- depends_on: {{ source('survey', 'responses') }}
-- depends_on: {{ source('survey', 'surveys') }}
-- depends_on: {{ source('web', 'events') }}

{%- set listed = [
    "commerce.customers",
    "commerce.order_lines",
    "commerce.orders",
    "commerce.products",
    "commerce.refunds",
    "crm.cases",
    "crm.customers",
    "crm.interactions",
    "survey.answers",
    "survey.invitations",
    "survey.questions",
    "survey.responses",
    "survey.surveys",
    "web.events",
] %}
{%- set tables = [] %}
{%- for node in graph.sources.values() if node.package_name == 'insight_engine' %}
    {%- do tables.append(node) %}
    {%- if execute and (node.source_name ~ '.' ~ node.name) not in listed %}
        {{ exceptions.raise_compiler_error(
            "stg_landing__column_fill_rates: contract table " ~ node.source_name ~ "." ~ node.name
            ~ " is missing from its depends_on list; add it") }}
    {%- endif %}
{%- endfor %}

with

{% if is_incremental() %}

landing_loads as (

    {#- the load folders holding files, listed by name (reading the files' rows to list their loads
        opened every file of every table: 8.5 s of a daily run at scale m) -#}
    {%- for node in tables | sort(attribute='unique_id') %}
        select distinct
            '{{ node.source_name }}' as source_system,
            '{{ node.name }}' as source_table,
            load_date
        from {{ landing_load_dates(node.source_name, node.name) }} as landing
        {%- if not loop.last %}

            union all

        {%- endif %}
    {%- endfor %}

),

{{ incremental_by_load_cutoff() }}

built_loads as (

    select distinct
        source_system,
        source_table,
        load_date
    from {{ this }}

),

unseen_loads as (

    -- a table's load this model has never read, however old: a load delivered late, out of order
    select distinct landing_loads.load_date
    from landing_loads
    left join built_loads
        on landing_loads.source_system = built_loads.source_system
        and landing_loads.source_table = built_loads.source_table
        and landing_loads.load_date = built_loads.load_date
    where built_loads.load_date is null

),

rewritten_loads as (

    select distinct load_date
    from landing_loads
    where {{ incremental_load_selected('load_date') }}

),

{% endif %}

{% for node in tables | sort(attribute='unique_id') %}
    {{ node.source_name }}__{{ node.name }} as (

        select
            load_date,
            {%- for col in node.columns.values() %}
                {%- if type_family(col.data_type) in ('timestamp', 'date') %}
                    count({{ col.name }}_raw) as n_filled__{{ col.name }},
                {%- elif type_family(col.data_type) == 'string' %}
                    count({{ clean_text(col.name) }}) as n_filled__{{ col.name }},
                {%- else %}
                    count({{ col.name }}) as n_filled__{{ col.name }},
                {%- endif %}
            {%- endfor %}
            count(*) as n_rows
        from {{ read_source(node.source_name, node.name) }} as landing
        {%- if is_incremental() %}
        where load_date in (select rewritten_loads.load_date from rewritten_loads)
        {%- endif %}
        group by load_date

    ),

{% endfor %}

unpivoted as (

    {#- each table's counts read once, crossed with its column list: a branch per table, not per
        column (Spark inlines a CTE at every reference; one per column planned each read 121 times) -#}
    {%- for node in tables | sort(attribute='unique_id') %}
        select
            '{{ node.source_name }}' as source_system,
            '{{ node.name }}' as source_table,
            listed_columns.column_name,
            listed_columns.is_required,
            counted.load_date,
            counted.n_rows,
            case listed_columns.column_name
                {%- for col in node.columns.values() %}
                    when '{{ col.name }}' then counted.n_filled__{{ col.name }}
                {%- endfor %}
            end as n_filled
        from {{ node.source_name }}__{{ node.name }} as counted
        cross join (
            values
            {%- for col in node.columns.values() %}
                ('{{ col.name }}', {{ 'true' if col.meta.get('required', false) else 'false' }})
                {{- ',' if not loop.last }}
            {%- endfor %}
        ) as listed_columns (column_name, is_required)
        {%- if not loop.last %}

            union all

        {%- endif %}
    {%- endfor %}

)

select
    source_system,
    source_table,
    column_name,
    is_required,
    cast(load_date as date) as load_date,
    cast(n_rows as bigint) as n_rows,
    cast(n_filled as bigint) as n_filled
from unpivoted
