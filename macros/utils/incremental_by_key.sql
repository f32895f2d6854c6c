{#-
    Incremental facts rebuilt by key: a model whose rows of one key (a device's sessions) depend on the
    input rows of that key alone (its events) and on a few per-key lookups (the device's customer) is
    rebuilt, on an incremental run, only for the keys whose input changed since the table was built.
    Nothing depends on load dates, lookback windows or run bookkeeping, so the result equals a full
    refresh whatever arrived, late, corrected or re-delivered: a key's input is fingerprinted (the
    bit_xor of a hash of every input row) and the fingerprint is stored on the key's rows; a run compares
    the stored fingerprints with the input's and rebuilds the keys that differ, appeared or vanished.

    The recipe (models/intermediate/web/int_web_sessions_sessionised.sql):

        {{ config(**incremental_by_key_config('anonymous_id')) }}
        fingerprinted as (select *, {{ row_fingerprint([...the input columns the model reads...]) }}
                          as input_fingerprint from input),
        key_lookups as (select anonymous_id, customer_key from ...),  -- one row per key
        {% if is_incremental() %}
        {{ incremental_by_key_scope('anonymous_id', 'fingerprinted', lookups=['customer_key']) }}
        {% endif %}
        ... from fingerprinted {{ incremental_by_key_read('anonymous_id') }} ...
        select ..., input_fingerprint (bit_xor per output row), {{ rebuild_bucket('anonymous_id') }} ...

    How a rebuilt key replaces its rows, per engine:
    * DuckDB: `delete+insert` on the key (every row of a rebuilt key is deleted, its new rows inserted);
      a key whose input vanished (every event of a device re-delivered under another device, or
      quarantined) has no new rows, so a post-hook deletes the keys no longer in the input.
    * Spark: `insert_overwrite` of a table partitioned by `rebuild_bucket` (the first hex digit of the
      key's md5: 16 partitions); a run rebuilds every key of a bucket holding a changed key. A bucket
      left with no key at all keeps its old rows until `--full-refresh` (dynamic partition overwrite
      only replaces partitions the run writes; MERGE would need Delta): with thousands of keys a bucket
      this does not happen, and the equals-full-refresh test covers the path.

    What the fingerprint cannot see: a change of the model's own SQL or of a var it reads. The model puts
    every var it reads into its fingerprint (`extra`), so changing `session_timeout_minutes` rebuilds every
    key; a change of SQL needs `--full-refresh`, as for any incremental dbt model.
-#}
{% macro incremental_by_key_config(key) -%}
    {{ return(adapter.dispatch('incremental_by_key_config', 'insight_engine')(key)) }}
{%- endmacro %}

{% macro default__incremental_by_key_config(key) -%}
    {{ return({
        'materialized': 'incremental',
        'incremental_strategy': 'sliced_delete_insert',
        'unique_key': key,
        'on_schema_change': 'fail',
    }) }}
{%- endmacro %}

{% macro spark__incremental_by_key_config(key) -%}
    {{ return({
        'materialized': 'incremental',
        'incremental_strategy': 'insert_overwrite',
        'partition_by': ['rebuild_bucket'],
        'file_format': 'parquet',
        'on_schema_change': 'fail',
    }) }}
{%- endmacro %}

{#- A 64-bit hash of one input row (its columns in order; a null is hashed as a null, not skipped). -#}
{% macro row_fingerprint(columns) -%}
    {{ return(adapter.dispatch('row_fingerprint', 'insight_engine')(columns)) }}
{%- endmacro %}

{% macro default__row_fingerprint(columns) -%}
    hash({% for c in columns %}{{ c }}{{ ', ' if not loop.last }}{% endfor %})
{%- endmacro %}

{% macro spark__row_fingerprint(columns) -%}
    {#- xxhash64 skips null arguments: an is-null flag per argument keeps (null, 'x') apart from ('x', null) -#}
    xxhash64({% for c in columns %}{{ c }}, {{ c }} is null{{ ', ' if not loop.last }}{% endfor %})
{%- endmacro %}

{#- The partition a key's rows are written to on Spark (kept on DuckDB too: one table shape). -#}
{% macro rebuild_bucket(key) -%}
    substr(md5(cast({{ key }} as string)), 1, 1)
{%- endmacro %}

{#- An incremental run compares fingerprints with the table's: a table built before its model stored them
    cannot be compared, and the run says how to rebuild it (renders nothing). -#}
{% macro require_input_fingerprint() -%}
{%- if execute -%}
    {%- set built_columns = adapter.get_columns_in_relation(this) | map(attribute='name') | map('lower') | list -%}
    {%- if 'input_fingerprint' not in built_columns -%}
        {{ exceptions.raise_compiler_error(
            this ~ " was built before it became incremental by key (no input_fingerprint column). "
            ~ "Rebuild it once: insight-engine run --full-refresh (or dbt build --full-refresh -s "
            ~ this.identifier ~ ")."
        ) }}
    {%- endif -%}
{%- endif -%}
{%- endmacro %}

{#- CTEs of an incremental run (after the model's `fingerprinted` CTE; call inside `is_incremental()`):
    `changed_keys` (keys whose fingerprint or a lookup differs, or that appeared or vanished) and
    `rebuilt_keys` (on Spark: every key of their buckets). `lookups` names the output columns that are the
    same on every row of a key and come from another model, with their current values in a CTE the model
    defines before the call, `key_lookups` (one row per key: the key and those columns).
    `one_row_per_key`: the key is unique in the input and in the table (a row is its own key, e.g. a
    journey event), so the fingerprints are compared as they are, without a group by over every row. -#}
{% macro incremental_by_key_scope(key, fingerprinted, lookups=[], one_row_per_key=false) -%}
{{ require_input_fingerprint() }}
built_keys as (

    select
        {{ key }},
        {%- if one_row_per_key %}
        input_fingerprint
        {%- for column in lookups %},
        {{ column }}
        {%- endfor %}
    from {{ this }}
        {%- else %}
        bit_xor(input_fingerprint) as input_fingerprint
        {%- for column in lookups %},
        max({{ column }}) as {{ column }}
        {%- endfor %}
    from {{ this }}
    group by {{ key }}
        {%- endif %}

),

input_keys as (

    select
        {{ key }},
        {%- if one_row_per_key %}
        input_fingerprint
    from {{ fingerprinted }}
        {%- else %}
        bit_xor(input_fingerprint) as input_fingerprint
    from {{ fingerprinted }}
    group by {{ key }}
        {%- endif %}

),

changed_keys as (

    select coalesce(input_keys.{{ key }}, built_keys.{{ key }}) as {{ key }}
    from input_keys
    full outer join built_keys
        on input_keys.{{ key }} = built_keys.{{ key }}
    {%- if lookups %}
    left join key_lookups
        on input_keys.{{ key }} = key_lookups.{{ key }}
    {%- endif %}
    where
        input_keys.{{ key }} is null
        or built_keys.{{ key }} is null
        or input_keys.input_fingerprint != built_keys.input_fingerprint
        {%- for column in lookups %}
        or key_lookups.{{ column }} is distinct from built_keys.{{ column }}
        {%- endfor %}

),

{{ adapter.dispatch('incremental_by_key_rebuilt', 'insight_engine')(key, fingerprinted) }}
{%- endmacro %}

{% macro default__incremental_by_key_rebuilt(key, fingerprinted) -%}
rebuilt_keys as (

    select {{ key }} from changed_keys

),
{%- endmacro %}

{% macro spark__incremental_by_key_rebuilt(key, fingerprinted) -%}
changed_buckets as (

    select distinct {{ rebuild_bucket(key) }} as rebuild_bucket from changed_keys

),

rebuilt_keys as (

    select distinct {{ fingerprinted }}.{{ key }}
    from {{ fingerprinted }}
    inner join changed_buckets
        on {{ rebuild_bucket(fingerprinted ~ '.' ~ key) }} = changed_buckets.rebuild_bucket

),
{%- endmacro %}

{#- A model that finds its rebuilt keys with CTEs of its own (int_identities_linked): `inputs` are the
    model's CTEs the key CTEs read, `scope` the key CTEs, ending with `rebuilt_keys` (each CTE ends with a
    comma). DuckDB: the key CTEs as they are.
    Spark: the keys are written first to a table beside the model's (`<model>__rebuilt_keys`, dropped by
    the post-hook `incremental_rebuilt_keys_dropped`), and `rebuilt_keys` reads that table. Spark inlines
    a CTE at every reference, and the model reads its rebuilt keys through CTEs its label rounds read many
    times over (`edges`, 18 times), so the whole key chain was planned in each copy: the day-2 statement's
    plan was 2.8 million characters and ran 24.6 s warm; reading the keys from a table, 0.2 million and
    3.2 s. A cached temporary view (`cache table`) is not enough: Spark re-analyzes a view's CTEs on each
    reference, the plans no longer match, and the cache is not used (DECISIONLOG.md, "Spark computes the
    incremental recipe's CTEs once"). -#}
{% macro incremental_rebuilt_keys(inputs, scope, key) -%}
    {{ return(adapter.dispatch('incremental_rebuilt_keys', 'insight_engine')(inputs, scope, key)) }}
{%- endmacro %}

{% macro default__incremental_rebuilt_keys(inputs, scope, key) -%}
{{ scope }}
{%- endmacro %}

{#- (`dbt compile` and `docs generate` get the key CTEs: they would leave the table behind.) -#}
{% macro spark__incremental_rebuilt_keys(inputs, scope, key) -%}
    {%- set keys_table = _rebuilt_keys_table() -%}
    {%- if not (execute and flags.WHICH in ('run', 'build')) -%}
{{ scope }}
    {%- else -%}
        {%- call statement('drop_' ~ keys_table.identifier) -%}
            drop table if exists {{ keys_table }}
        {%- endcall -%}
        {%- call statement('create_' ~ keys_table.identifier) -%}
            create table {{ keys_table }} using parquet as
            with
            {{ inputs }}
            {{ scope.strip().rstrip(',') }}
            select {{ key }} from rebuilt_keys
        {%- endcall %}
rebuilt_keys as (

    select {{ key }} from {{ keys_table }}

),
    {%- endif %}
{%- endmacro %}

{#- Post-hook of a model that calls `incremental_rebuilt_keys`: Spark drops the keys table (a run that
    stopped before it is cleaned up by the next run's drop); DuckDB renders nothing. -#}
{% macro incremental_rebuilt_keys_dropped() -%}
    {{ return(adapter.dispatch('incremental_rebuilt_keys_dropped', 'insight_engine')()) }}
{%- endmacro %}

{% macro default__incremental_rebuilt_keys_dropped() -%}
{%- endmacro %}

{% macro spark__incremental_rebuilt_keys_dropped() -%}
    drop table if exists {{ _rebuilt_keys_table() }}
{%- endmacro %}

{% macro _rebuilt_keys_table() -%}
    {{ return(this.incorporate(path={'identifier': this.identifier ~ '__rebuilt_keys'}, type='table')) }}
{%- endmacro %}

{#- The filter of the input on an incremental run: the rebuilt keys only. -#}
{% macro incremental_by_key_read(key) -%}
    {%- if is_incremental() %}
    where {{ key }} in (select {{ key }} from rebuilt_keys)
    {%- endif %}
{%- endmacro %}

{#- DuckDB's post-hook: keys whose input vanished lose their rows (Spark: see above). -#}
{% macro incremental_by_key_vanished(key, input_relation, input_filter='true') -%}
    {{ return(adapter.dispatch('incremental_by_key_vanished', 'insight_engine')(key, input_relation, input_filter)) }}
{%- endmacro %}

{% macro default__incremental_by_key_vanished(key, input_relation, input_filter) -%}
    {%- if is_incremental() -%}
    delete from {{ this }}
    where {{ key }} not in (
        select {{ key }} from {{ input_relation }} where {{ key }} is not null and {{ input_filter }}
    )
    {%- endif -%}
{%- endmacro %}

{% macro spark__incremental_by_key_vanished(key, input_relation, input_filter) -%}
{%- endmacro %}

{#- A model that computes its rebuilt keys from a closed set of its own (int_identities_linked: whole
    components of the identity graph) rather than from the rows of each key: on Spark, insert_overwrite
    replaces whole `rebuild_bucket` partitions, so the keys of those buckets that the run did not rebuild
    are carried over from the table as they are (`union all` after the model's own rows). On DuckDB,
    delete+insert touches only the rebuilt keys: nothing to carry (renders nothing). -#}
{% macro incremental_by_key_carried(key, rebuilt, columns) -%}
    {{ return(adapter.dispatch('incremental_by_key_carried', 'insight_engine')(key, rebuilt, columns)) }}
{%- endmacro %}

{% macro default__incremental_by_key_carried(key, rebuilt, columns) -%}
{%- endmacro %}

{% macro spark__incremental_by_key_carried(key, rebuilt, columns) -%}
    {%- if is_incremental() %}
    union all
    select {{ columns | join(', ') }}
    from {{ this }}
    where
        rebuild_bucket in (select distinct {{ rebuild_bucket(key) }} from {{ rebuilt }})
        and {{ key }} not in (select {{ key }} from {{ rebuilt }})
    {%- endif %}
{%- endmacro %}

{#- One row per key (int_journey_events_unioned: an event is a function of its own source row, and its
    keys exist only inside the model's union of six sources, so no post-hook can read them). The model's
    `fingerprinted` CTE holds every output column and the row's hash, `input_fingerprint`;
    `incremental_by_row_scope` (inside `is_incremental()`) renders the CTEs the select needs and
    `incremental_by_row_select` the final select of `columns`.
    * DuckDB, in two passes: `changed_rows` compares only (match columns, fingerprint) of the input with
      the table's, a full outer join of narrow rows; the select then reads the input's rows whose match
      columns changed or appeared (a semi join with the few changed rows) and writes a key that vanished
      as a tombstone (the key, every other column null), so delete+insert deletes its old row like any
      rebuilt key's; the post-hook `incremental_by_row_tombstones_cleared(marker)` then deletes the
      tombstones (rows whose `marker` column, never null in a real row, is null). One pass joining whole
      rows carried every column of both sides through the join: at scale m with a tenth of the memory
      limit the two passes took 0.4x as long, at l with 4GB a few percent less (DECISIONLOG,
      "Incremental by row: a narrow comparison first"). The input is read twice, so the model declares
      `fingerprinted` and every CTE it reads `cte_not_materialized()`: DuckDB would otherwise copy the
      whole input once to read it twice.
    * Spark: the by-key scope (changed keys, their whole buckets) and insert_overwrite of those buckets,
      which leaves a vanished key out.
    `match_columns` (default: the key) are columns of the input and of the table that identify a row as
    the key does, never null (tested): int_journey_events_unioned compares (event_source, source_id), so
    the md5 surrogate key is computed only for the rows written, not for every row of history.
    A table that must not carry the fingerprint (fct_journey_events: a contracted mart) passes
    `fingerprint_columns`: the table's side is then hashed from those columns as built, the same
    row_fingerprint the model computes over the same columns of its new rows; such a model is
    incremental on DuckDB only (incremental_by_row_mart_config). -#}
{% macro incremental_by_row_scope(key, fingerprinted, fingerprint_columns=none, match_columns=none) -%}
    {{ return(adapter.dispatch('incremental_by_row_scope', 'insight_engine')(
        key, fingerprinted, fingerprint_columns, match_columns or [key])) }}
{%- endmacro %}

{% macro default__incremental_by_row_scope(key, fingerprinted, fingerprint_columns, match_columns) -%}
{%- if fingerprint_columns is none %}{{ require_input_fingerprint() }}{% endif %}
built_rows as (

    select
        {{ key }} as built_key,
        {%- for column in match_columns %}
        {{ column }},
        {%- endfor %}
        {%- if fingerprint_columns is none %}
        input_fingerprint
        {%- else %}
        {{ row_fingerprint(fingerprint_columns) }} as input_fingerprint
        {%- endif %}
    from {{ this }}

),

input_rows as (

    select
        {%- for column in match_columns %}
        {{ column }},
        {%- endfor %}
        input_fingerprint
    from {{ fingerprinted }}

),

changed_rows as (

    select
        {%- for column in match_columns %}
        coalesce(input_rows.{{ column }}, built_rows.{{ column }}) as {{ column }},
        {%- endfor %}
        built_rows.built_key,
        input_rows.{{ match_columns[0] }} is null as is_vanished
    from input_rows
    full outer join built_rows
        on
        {%- for column in match_columns %}
            {{ 'and ' if not loop.first }}input_rows.{{ column }} = built_rows.{{ column }}
        {%- endfor %}
    where
        input_rows.{{ match_columns[0] }} is null
        or built_rows.{{ match_columns[0] }} is null
        or input_rows.input_fingerprint != built_rows.input_fingerprint

),
{%- endmacro %}

{% macro spark__incremental_by_row_scope(key, fingerprinted, fingerprint_columns, match_columns) -%}
{{ incremental_by_key_scope(key, fingerprinted, one_row_per_key=true) }}
{%- endmacro %}

{% macro incremental_by_row_select(key, fingerprinted, columns, match_columns=none) -%}
    {{ return(adapter.dispatch('incremental_by_row_select', 'insight_engine')(
        key, fingerprinted, columns, match_columns or [key])) }}
{%- endmacro %}

{% macro default__incremental_by_row_select(key, fingerprinted, columns, match_columns) -%}
    {%- if is_incremental() %}
    select {{ columns | join(', ') }}
    from {{ fingerprinted }}
    semi join changed_rows
        on
        {%- for column in match_columns %}
            {{ 'and ' if not loop.first }}{{ fingerprinted }}.{{ column }} = changed_rows.{{ column }}
        {%- endfor %}
    union all
    select
        {%- for column in columns %}
        {{ 'built_key' if column == key else 'null' }} as {{ column }}{{ ',' if not loop.last }}
        {%- endfor %}
    from changed_rows
    where is_vanished
    {%- else %}
    select {{ columns | join(', ') }}
    from {{ fingerprinted }}
    {%- endif %}
{%- endmacro %}

{% macro spark__incremental_by_row_select(key, fingerprinted, columns, match_columns) -%}
    select {{ columns | join(', ') }}
    from {{ fingerprinted }}
    {{- incremental_by_key_read(key) }}
{%- endmacro %}

{% macro incremental_by_row_tombstones_cleared(marker='input_fingerprint') -%}
    {{ return(adapter.dispatch('incremental_by_row_tombstones_cleared', 'insight_engine')(marker)) }}
{%- endmacro %}

{% macro default__incremental_by_row_tombstones_cleared(marker) -%}
    {%- if is_incremental() -%}
    delete from {{ this }} where {{ marker }} is null
    {%- endif -%}
{%- endmacro %}

{% macro spark__incremental_by_row_tombstones_cleared(marker) -%}
{%- endmacro %}

{#- A contracted mart incremental by row (no fingerprint column of its own): delete+insert on DuckDB;
    a table on Spark, where insert_overwrite would need a rebuild_bucket partition column in the
    contract. `marker`: a column never null in a real row (the tombstones' post-hook). -#}
{% macro incremental_by_row_mart_config(key, marker) -%}
    {{ return(adapter.dispatch('incremental_by_row_mart_config', 'insight_engine')(key, marker)) }}
{%- endmacro %}

{% macro default__incremental_by_row_mart_config(key, marker) -%}
    {{ return({
        'materialized': 'incremental',
        'incremental_strategy': 'sliced_delete_insert',
        'unique_key': key,
        'on_schema_change': 'fail',
        'post_hook': "{{ incremental_by_row_tombstones_cleared('" ~ marker ~ "') }}",
    }) }}
{%- endmacro %}

{% macro spark__incremental_by_row_mart_config(key, marker) -%}
    {{ return({'materialized': 'table'}) }}
{%- endmacro %}
