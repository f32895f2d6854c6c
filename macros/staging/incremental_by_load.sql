{#-
    Incremental base models rewrite daily loads (`load_date`): the loads a run selects whole, and in an
    older load the rows of the ids those loads touch, so an incremental run gives the same table as a
    full refresh. A base model states only its landing table, the id column(s) its versions are ranked by
    (`flag_versions` keys) and its own renames and checks; the recipe is five rules, one macro each:

    1. `incremental_by_load_config(id_columns)`: how a load is replaced, per engine:
       * DuckDB: the strategy `by_load_ids` (macro `get_incremental_by_load_ids_sql`): the selected loads
         are deleted whole, an older load loses only the rows of the ids ranked again, then the run's
         rows are inserted;
       * Spark: `insert_overwrite` of a table partitioned by `load_date` (dynamic partition overwrite; works
         on plain Parquet, where MERGE would need Delta): every load the run writes is replaced whole.
    2. `incremental_by_load_scope(id_columns)`: which loads a run rewrites: those
       `incremental_load_selected()` picks (new loads, the lookback window or the loads chosen by
       `--since` / `--load-date`, and every load the table has never read), plus every older load holding
       an id that those loads deliver or used to hold (its rows may become, or stop being, `superseded`).
       On DuckDB only those recent ids are ranked again; where a load can only be replaced whole (Spark,
       `incremental_by_load_keeps_rows()`), every id of a rewritten load is, which cascades to every load
       sharing an id with it.
    3. `incremental_by_load_read(id_columns)`: which landing rows a run reads: the selected loads (on Spark
       every rewritten load), plus every row sharing an id with the ids ranked again.
    4. `incremental_by_load_written(relation)`: which rows a run writes: those of the rewritten loads (rows
       read only to rank their id's versions stay as they are in the table).
    5. `incremental_by_load_scope(id_columns, reason=..., reason_joins=...)`: a check that reads another
       table or a refreshed seed is re-run over the rows already in the table; an id whose reason would
       now differ is treated as an id of the rewritten loads (rule 2).

    The model's shape (models/staging/web/base/base_web__events.sql):

        {{ config(**incremental_by_load_config(['event_id'])) }}
        with
        landing as {{ cte_not_materialized() }} (select * from {{ read_source('web', 'events') }}),
        {{ incremental_by_load_scope(['event_id']) }}
        source as (select landing.* from landing {{ incremental_by_load_read(['event_id']) }}),
        renamed as (...), checked as (...),
        flagged as (select * from {{ flag_versions('checked', ['event_id']) }})
        select flagged.* from flagged {{ incremental_by_load_written('flagged') }}

    The CTE names are the recipe's: `landing` (the landing table as read, unfiltered; declared
    `landing as {{ cte_not_materialized() }} (`), and, on an incremental run, `cutoff`, `built_loads`,
    `landing_loads`, `unseen_loads`, `selected_loads`, `recent_ids`, `rewritten_loads`, `rewritten_ids`,
    `whole_loads`, `read_loads`. The id columns keep their landing names (cleaned with `clean_text`), and
    the table stores them under the same names. Rows with a null id carry a row-level reason and are
    never ranked, so they need no id match. On a first build or `--full-refresh` rules 2 to 4 add nothing.
    Each of the recipe's CTEs is read by several later ones; they are `cte_computed_once`, so that Spark
    computes each once instead of inlining it at every reference (DECISIONLOG.md, "Spark computes the
    incremental recipe's CTEs once").

    What the recipe assumes: a row's `quarantine_reason` depends only on the rows of its own table sharing
    its id, and on other tables or seeds only through a check that rule 5 re-runs (DECISIONLOG.md,
    "Incremental by load: every base model"). A model with such a check names its `row_reason`
    expression once (a `{% set %}` block) and passes it to rule 5 as it uses it in its `checked` CTE.
-#}
{% macro incremental_by_load_config(id_columns=none) -%}
    {{ return(adapter.dispatch('incremental_by_load_config', 'insight_engine')(id_columns)) }}
{%- endmacro %}

{% macro default__incremental_by_load_config(id_columns=none) -%}
    {%- if id_columns %}
    {{ return({
        'materialized': 'incremental',
        'incremental_strategy': 'by_load_ids',
        'unique_key': ['load_date'] + id_columns,
        'on_schema_change': 'fail',
    }) }}
    {%- else %}
    {{ return({
        'materialized': 'incremental',
        'incremental_strategy': 'sliced_delete_insert',
        'unique_key': 'load_date',
        'on_schema_change': 'fail',
    }) }}
    {%- endif %}
{%- endmacro %}

{#- DuckDB's strategy for a base model (`unique_key` = `load_date` and the model's id columns): the run's
    selected loads that the table holds are deleted whole (a re-delivered load may have lost rows), an
    older load loses only the rows of the ids the run ranked again (the rows it wrote for that load), and
    the run's rows are inserted. A load the table never read has nothing to delete. The selected loads are
    found as rule 2 finds them (the same vars and the table's newest load, which the delete sees before
    it deletes). -#}
{% macro get_incremental_by_load_ids_sql(arg_dict) -%}
    {%- set target = arg_dict['target_relation'] -%}
    {%- set source = arg_dict['temp_relation'] -%}
    {%- set keys = arg_dict['unique_key'] -%}
    {%- if keys is string or keys[0] != 'load_date' or keys | length < 2 -%}
        {{ exceptions.raise_compiler_error(
            "incremental strategy by_load_ids needs unique_key ['load_date', <id columns>], got " ~ keys) }}
    {%- endif -%}
    {%- set columns = get_quoted_csv(arg_dict['dest_columns'] | map(attribute='name')) -%}
delete from {{ target }}
where {{ target }}.load_date in (select distinct ranked.load_date from {{ source }} as ranked)
    and (
        {{ target }}.load_date between (
            -- min(): the chosen first load is a constant when a var sets it, one row per table row
            select min(chosen.first_load_date)
            from (select {{ incremental_first_load_date() }} as first_load_date from {{ target }}) as chosen
        ) and {{ incremental_last_load_date() }}
        or exists (
            select 1
            from {{ source }} as ranked
            where ranked.load_date = {{ target }}.load_date
            {%- for col in keys[1:] %}
                and ranked.{{ col }} = {{ target }}.{{ col }}
            {%- endfor %}
        )
    );

insert into {{ target }} ({{ columns }})
select {{ columns }}
from {{ source }};

{{ test_slice_written(arg_dict) }}
{%- endmacro %}

{% macro spark__incremental_by_load_config(id_columns=none) -%}
    {{ return({
        'materialized': 'incremental',
        'incremental_strategy': 'insert_overwrite',
        'partition_by': ['load_date'],
        'file_format': 'parquet',
        'on_schema_change': 'fail',
    }) }}
{%- endmacro %}

{#- Which loads an incremental run rewrites (besides older loads sharing ids with them, see the model):
    * by default every load from `incremental_lookback_days` before the newest load already in the table
      (a re-delivered recent load is picked up); an empty table starts at the beginning;
    * var `incremental_from_load_date` (`insight-engine run --since D`): every load from D on;
    * vars `incremental_from_load_date` = `incremental_to_load_date` (`--load-date D`): load D only.
    Loads newer than the newest one already in the table, and loads it has never read (however old: a
    late or out-of-order delivery), are always taken, so no choice leaves a gap.
    A first build or `--full-refresh` reads every load whatever the vars say. -#}
{% macro incremental_first_load_date() -%}
    {%- set chosen = _load_date_var('incremental_from_load_date') -%}
    {%- if chosen -%}
        cast('{{ chosen }}' as date)
    {%- else -%}
        coalesce(
            cast({{ dbt.dateadd('day', -1 * number_var('incremental_lookback_days'), 'max(load_date)') }} as date),
            cast('1900-01-01' as date)
        )
    {%- endif -%}
{%- endmacro %}

{% macro incremental_last_load_date() -%}
    cast('{{ _load_date_var("incremental_to_load_date") or "9999-12-31" }}' as date)
{%- endmacro %}

{#- True for a load the run rewrites; needs the model's `cutoff` CTE (first, last and newest load date)
    and its `unseen_loads` CTE (landing loads the table has never read: a load delivered out of order,
    older than the lookback window, is still taken, whatever the vars choose). -#}
{% macro incremental_load_selected(column) -%}
    ({{ column }} between (select cutoff.first_load_date from cutoff) and (select cutoff.last_load_date from cutoff)
        or {{ column }} > (select cutoff.newest_load_date from cutoff)
        or {{ column }} in (select unseen_loads.load_date from unseen_loads))
{%- endmacro %}

{#- A load-date var as 'YYYY-MM-DD', or none; anything else stops the build before any SQL runs. -#}
{% macro _load_date_var(name) -%}
    {%- set value = var(name, none) -%}
    {%- if value is none or value == '' -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set text = value | string -%}
    {%- if not modules.re.match('^[0-9]{4}-[0-9]{2}-[0-9]{2}$', text) -%}
        {{ exceptions.raise_compiler_error("var " ~ name ~ " must be a date YYYY-MM-DD, got '" ~ text ~ "'") }}
    {%- endif -%}
    {{ return(text) }}
{%- endmacro %}

{#- Rule 2: the CTEs that choose the loads a run rewrites (`rewritten_loads`) and the ids whose versions
    must be ranked again (`rewritten_ids`); nothing on a first build or full refresh. Each CTE ends with a
    comma: the model's `source` CTE follows.
    Rule 5, for a model whose check reads another table or a refreshed seed (a foreign key, an exchange
    rate): `reason` is the model's whole `row_reason` expression over `renamed.` columns, `reason_joins`
    the joins it needs (CTEs defined before this macro's). Rows already in the table whose reason would now
    differ (their order arrived, the rates now cover their month) count as ids of the selected loads, so
    every load holding their id is rewritten and ranked again. -#}
{#- The `cutoff` CTE `incremental_load_selected()` reads: the first and last load a run chooses, and the
    newest load already in the table (ends with a comma). -#}
{% macro incremental_by_load_cutoff() -%}
{% call cte_computed_once('cutoff') %}

    select
        {{ incremental_first_load_date() }} as first_load_date,
        {{ incremental_last_load_date() }} as last_load_date,
        coalesce(max(load_date), cast('1899-12-31' as date)) as newest_load_date
    from {{ this }}

{% endcall %}
{%- endmacro %}

{% macro incremental_by_load_scope(id_columns, reason=none, reason_joins='') -%}
    {%- if is_incremental() -%}
    {%- set ids = id_columns | join(', ') %}
    {%- set keys = config.get('unique_key') %}
    {%- if keys is not none and keys is not string and keys[1:] | list != id_columns | list %}
        {{ exceptions.raise_compiler_error(
            model.name ~ ": incremental_by_load_config(" ~ keys[1:] ~ ") and incremental_by_load_scope("
            ~ id_columns ~ ") must name the same id columns") }}
    {%- endif %}

{{ incremental_by_load_cutoff() }}

{% call cte_computed_once('built_loads') %}

    select distinct load_date
    from {{ this }}

{% endcall %}

-- the loads in the landing zone (macro `incremental_landing_loads`)
{% call cte_computed_once('landing_loads') %}

    select distinct load_date
    from {{ incremental_landing_loads() }}
    where load_date is not null

{% endcall %}

{% call cte_computed_once('unseen_loads') %}

    -- loads the table has never read, however old: a load delivered late, out of order
    select landing_loads.load_date
    from landing_loads
    left join built_loads
        on landing_loads.load_date = built_loads.load_date
    where built_loads.load_date is null

{% endcall %}

{% call cte_computed_once('selected_loads') %}

    select load_date
    from landing_loads
    where {{ incremental_load_selected('load_date') }}

{% endcall %}

{% call cte_computed_once('recent_ids') %}

    -- `in` a list of loads: the engine prunes the landing to those loads' files
    select {{ _landing_ids(id_columns) }}
    from landing
    where landing.load_date in (select selected_loads.load_date from selected_loads)

    union

    select {{ ids }}
    from {{ this }}
    where {{ incremental_load_selected('load_date') }}
    {%- if reason %}

    union

    -- rule 5: rows whose check reads another table or a refreshed seed and would now give another reason
    select {{ _prefixed(id_columns, 'renamed') }}
    from {{ this }} as renamed
    {{ reason_joins }}
    where renamed.row_reason is distinct from ({{ reason }})
    {%- endif %}

{% endcall %}

{% call cte_computed_once('rewritten_loads') %}

    -- the loads a run writes: the selected ones, and every older load holding a version of a recent id
    select load_date
    from selected_loads

    union

    select distinct existing.load_date
    from {{ this }} as existing
    inner join recent_ids
        on {{ _ids_match('existing', 'recent_ids', id_columns) }}

{% endcall %}
{%- if incremental_by_load_keeps_rows() %}

-- the ids whose versions are ranked again: the recent ones. The other rows of an older rewritten load
-- stay in the table as built (the strategy `by_load_ids` deletes only these ids' rows from it), so
-- rewriting a load does not cascade to its other ids.
{% call cte_computed_once('rewritten_ids') %}

    select * from recent_ids

{% endcall %}

{% call cte_computed_once('whole_loads') %}

    select load_date
    from selected_loads

{% endcall %}
{%- else %}

-- a rewritten load is written whole (its partition is replaced), so every id it holds is ranked again
{% call cte_computed_once('rewritten_ids') %}

    select distinct {{ _landing_ids(id_columns) }}
    from landing
    where landing.load_date in (select rewritten_loads.load_date from rewritten_loads)

{% endcall %}

{% call cte_computed_once('whole_loads') %}

    select load_date
    from rewritten_loads

{% endcall %}
{%- endif %}

-- the loads a run reads: the ones it reads whole, and the other loads holding a version of a rewritten
-- id (read for those ids' rows only). Those are found in the table, not the landing: a load outside the
-- selected ones is in the table as it is in the landing (a load the table never read is selected; one
-- re-delivered changed is chosen by the landing ledger's `--since`), so the landing is read only where
-- a version can be.
{% call cte_computed_once('read_loads') %}

    select
        load_date,
        true as is_whole
    from whole_loads

    union all

    select distinct
        existing.load_date,
        false as is_whole
    from {{ this }} as existing
    inner join rewritten_ids
        on {{ _ids_match('existing', 'rewritten_ids', id_columns) }}
    where existing.load_date not in (select whole_loads.load_date from whole_loads)

{% endcall %}
    {%- endif %}
{%- endmacro %}

{#- Where `landing_loads` comes from: on DuckDB the table's `load_date=` folders that hold files, listed
    by name (`landing_load_dates`; no file is opened), for a base model named `base_<source>__<table>`;
    elsewhere the landing's partition column (every file's row groups are visited: 1.4 s of the order
    lines' daily select at scale l, 5.4M rows, for 730 dates). A folder whose files hold no row is listed
    too: it is selected as a load the table never read, and rewrites nothing. -#}
{% macro incremental_landing_loads() -%}
    {{ return(adapter.dispatch('incremental_landing_loads', 'insight_engine')()) }}
{%- endmacro %}

{% macro default__incremental_landing_loads() -%}
    {%- set named = modules.re.match('^base_([a-z0-9_]+?)__([a-z0-9_]+)$', model.name) -%}
    {%- if named and (named.group(1), named.group(2)) in _contract_tables() -%}
        {{ landing_load_dates(named.group(1), named.group(2)) }} as landing_files
    {%- else -%}
        landing
    {%- endif -%}
{%- endmacro %}

{% macro spark__incremental_landing_loads() -%}
    landing
{%- endmacro %}

{#- (source, table) of every contract table of this project. -#}
{% macro _contract_tables() -%}
    {%- set found = [] -%}
    {%- for node in graph.sources.values() if node.package_name == 'insight_engine' -%}
        {%- do found.append((node.source_name, node.name)) -%}
    {%- endfor -%}
    {{ return(found) }}
{%- endmacro %}

{#- Rule 3: the filter of the model's `source` CTE (`select landing.* from landing` + this): the rows of
    the rewritten loads, and the rows sharing an id with them in the other loads that hold one; nothing
    on a first build or full refresh. The join to `read_loads` (a few loads) is what DuckDB (a dynamic
    filter on the hive partition column) and Spark (partition pruning) turn into reading only those
    loads' files; the model's `landing` CTE is `not materialized` (macro `cte_not_materialized`) so that
    DuckDB does not first read every load into memory for the CTE's several readers. -#}
{% macro incremental_by_load_read(id_columns) -%}
    {%- if is_incremental() %}
    inner join read_loads
        on landing.load_date = read_loads.load_date
    left join rewritten_ids
        on {{ _ids_match('landing', 'rewritten_ids', id_columns, clean_left=true) }}
    where read_loads.is_whole
        or rewritten_ids.{{ id_columns[0] }} is not null
    {%- endif %}
{%- endmacro %}

{#- Rule 4: the filter of the model's last select (`select <relation>.* from <relation>` + this): only the
    rows of the rewritten loads are written (rows read only to rank their id's versions stay as they are
    in the table); nothing on a first build or full refresh. -#}
{% macro incremental_by_load_written(relation) -%}
    {%- if is_incremental() %}
    inner join rewritten_loads
        on {{ relation }}.load_date = rewritten_loads.load_date
    {%- endif %}
{%- endmacro %}

{#- Whether an older load can be rewritten for some of its ids only, its other rows left in place (true),
    or must be replaced whole with every id it holds ranked again (false), which cascades to every load
    sharing an id with it.
    * DuckDB: true. The strategy `by_load_ids` (macro `get_incremental_by_load_ids_sql`) deletes the
      selected loads whole and, from an older load, only the rows of the ids the run ranked again.
    * Spark: false. `insert_overwrite` replaces whole partitions, and the rows to keep cannot be copied
      back into the model's output: a table partitioned by `load_date` stores the partition column last,
      so its rows do not line up with the model's, and Spark SQL has no `union ... by name`
      (DECISIONLOG.md, "Incremental by load: old loads rewritten for their recent ids only"). -#}
{% macro incremental_by_load_keeps_rows() -%}
    {{ return(adapter.dispatch('incremental_by_load_keeps_rows', 'insight_engine')()) }}
{%- endmacro %}

{% macro default__incremental_by_load_keeps_rows() -%}
    {{ return(true) }}
{%- endmacro %}

{% macro spark__incremental_by_load_keeps_rows() -%}
    {{ return(false) }}
{%- endmacro %}

{#- `renamed.a, renamed.b` -#}
{% macro _prefixed(id_columns, relation) -%}
    {%- for col in id_columns -%}
        {{ relation }}.{{ col }}{{ ', ' if not loop.last }}
    {%- endfor -%}
{%- endmacro %}

{#- The id columns of a landing row, cleaned as the base models clean them. -#}
{% macro _landing_ids(id_columns) -%}
    {%- for col in id_columns -%}
        {{ clean_text('landing.' ~ col) }} as {{ col }}{{ ', ' if not loop.last }}
    {%- endfor -%}
{%- endmacro %}

{#- Equality on every id column (`left` a landing row when clean_left: its ids cleaned first). -#}
{% macro _ids_match(left, right, id_columns, clean_left=false) -%}
    {%- for col in id_columns -%}
        {%- set left_col = clean_text(left ~ '.' ~ col) if clean_left else left ~ '.' ~ col -%}
        {{ left_col }} = {{ right }}.{{ col }}{{ '\n        and ' if not loop.last }}
    {%- endfor -%}
{%- endmacro %}
