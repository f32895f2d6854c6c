{#-
    Tests of an incremental model test the rows the run wrote (DuckDB), not the whole history again.

    Why it is equivalent. An incremental run of a model writes with delete+insert on its `unique_key`
    (strategies `by_load_ids` and `sliced_delete_insert`): every row of the table whose key the run wrote
    is new, every other row is as the previous build left it. If that build passed the test, a per-row
    test (not_null, accepted_values) can only fail on a new row, and a uniqueness test only on a value
    some new row holds: so the first reads the new rows, the second the rows sharing a tested value with
    a new row (an old row that a new row duplicates is caught).

    The parts:
    * the strategy writes the keys of the rows it inserted to `test_slices.<model>` (one table per model,
      replaced each run; its comment holds the dbt invocation id that wrote it);
    * `on-run-start` / `on-run-end` keep `test_slices.build_outcomes`, one row per dbt invocation, `clean`
      when it was a `build` or `test` in which nothing failed, errored or was skipped (a warning is not
      a gate) and that tested every table whole or followed a clean invocation (a killed run leaves
      null), and `test_slices.passed_tests`, the tests that passed in each of the last 5 invocations, as
      defined then (a generic test's unique_id hashes its arguments; the `where` and the text of its test
      macro are added);
    * `get_where_subquery` (dbt's hook for a test's `where`) narrows a test to the slice only when the
      var `test_incremental_slices` is on (the default), the attached model wrote a slice in this very
      invocation, the invocation before it was clean and passed this test as it is defined now, and the
      test is one of the four above. Anything else tests the whole table: relationships (a parent may
      change), singular tests, tests of tables and of most views (a view is computed again on every read:
      an edited view changes its old rows), `--full-refresh`, a first build, a `dbt test` on its own, a
      new or changed test, and the run after a failed, killed, partial or untested (`dbt run`) one;
    * a view whose every row is a function of one row of its one parent, an incremental model (a
      staging view: renames, casts and a row filter of its base model, carrying the base's key columns),
      says so with `meta: {test_slices_from_parent: true}` (dbt_project.yml sets it on staging/ and
      quarantine/, whose views filter their base model the other way), and
      its tests are then sliced by the parent's slice, as if they were the parent's. The view's
      definition as DuckDB holds it is part of the test's key: a view edited since, or one whose macros
      expand differently, tests its whole table once. tests/python/test_test_slices.py reads every such
      view's compiled SQL and refuses joins, aggregates, window functions, DISTINCT, set operations and
      clocks.

    Spark writes no slices (its strategies overwrite partitions): its tests read whole tables.
-#}

{%- macro test_slices_schema() -%}test_slices{%- endmacro -%}

{#- A bookkeeping table of the build warehouse: `test_slices.<name>`. -#}
{%- macro test_slices_table(name) -%}
    {{- adapter.quote(target.database) }}.{{ test_slices_schema() }}.{{ name -}}
{%- endmacro -%}

{#- The strategy of the incremental models keyed by row or by key on DuckDB: dbt's delete+insert, then the
    slice of the keys it inserted. -#}
{% macro get_incremental_sliced_delete_insert_sql(arg_dict) -%}
{{ get_incremental_delete_insert_sql(arg_dict) }};
{{ test_slice_written(arg_dict) }}
{%- endmacro %}

{#- The keys of the rows an incremental run inserted (`temp_relation`), for the tests of this invocation. -#}
{% macro test_slice_written(arg_dict) -%}
    {%- set keys = arg_dict['unique_key'] -%}
    {%- set keys = [keys] if keys is string else keys -%}
    {%- set slice = api.Relation.create(
        database=arg_dict['target_relation'].database,
        schema=test_slices_schema(),
        identifier=arg_dict['target_relation'].identifier,
    ) -%}
create or replace table {{ slice }} as
select distinct {{ keys | join(', ') }}
from {{ arg_dict['temp_relation'] }};
comment on table {{ slice }} is '{{ invocation_id }}'
{%- endmacro %}

{#- on-run-start: this invocation's row in the outcomes (DuckDB; nothing on other engines). -#}
{% macro test_slices_run_started() -%}
    {{ return(adapter.dispatch('test_slices_run_started', 'insight_engine')()) }}
{%- endmacro %}

{% macro default__test_slices_run_started() -%}
{%- endmacro %}

{% macro duckdb__test_slices_run_started() -%}
create schema if not exists {{ adapter.quote(target.database) }}.{{ test_slices_schema() }};
create table if not exists {{ test_slices_table('build_outcomes') }} (
    invocation_id varchar,
    command varchar,
    started_at timestamp,
    finished_at timestamp,
    n_sliced_tests integer,
    clean boolean
);
create table if not exists {{ test_slices_table('passed_tests') }} (
    invocation_id varchar,
    test_key varchar
);
insert into {{ test_slices_table('build_outcomes') }}
values ('{{ invocation_id }}', '{{ flags.WHICH }}', now(), null, null, null)
{%- endmacro %}

{#- on-run-end: was this invocation clean (see the top of this file)? -#}
{% macro test_slices_run_finished(results) -%}
    {{ return(adapter.dispatch('test_slices_run_finished', 'insight_engine')(results)) }}
{%- endmacro %}

{% macro default__test_slices_run_finished(results) -%}
{%- endmacro %}

{% macro duckdb__test_slices_run_finished(results) -%}
    {%- set args = invocation_args_dict -%}
    {%- set partial = args.get('select') or args.get('exclude') or args.get('selector')
        or args.get('resource_types') or args.get('inline') -%}
    {%- set failed = results | selectattr('status', 'in', ['error', 'fail', 'runtime error', 'skipped'])
        | list -%}
    {%- set tested = flags.WHICH in ['build', 'test'] and not failed -%}
    {%- set sliced, passed = [], [] -%}
    {%- for result in results if result.node.resource_type == 'test' -%}
        {%- if test_slices_schema() in (result.node.compiled_code or '') -%}
            {%- do sliced.append(result.node.unique_id) -%}
        {%- endif -%}
        {%- if result.status == 'pass' -%}
            {%- set metadata = result.node.test_metadata -%}
            {%- set attached = graph.nodes.get(result.node.attached_node) if result.node.attached_node else none -%}
            {%- do passed.append(test_slices_test_key_sql(
                result.node.unique_id, result.node.config.where, metadata.name if metadata else none,
                attached)) -%}
        {%- endif -%}
    {%- endfor -%}
{%- if passed %}
insert into {{ test_slices_table('passed_tests') }}
    {%- for test_key_sql in passed %}
select '{{ invocation_id }}', {{ test_key_sql }}{{ ' union all' if not loop.last }}
    {%- endfor %};
{%- endif %}
-- the passed tests of the last 5 invocations are kept (a test is sliced only after it passed whole or sliced)
delete from {{ test_slices_table('passed_tests') }}
where invocation_id not in (
    select recent.invocation_id from {{ test_slices_table('build_outcomes') }} as recent
    order by recent.started_at desc limit 5
);
update {{ test_slices_table('build_outcomes') }}
set
    finished_at = now(),
    n_sliced_tests = {{ sliced | length }},
    clean = {{ 'true' if tested and not partial and not sliced else (
        'false' if not tested else '(' ~ test_slices_previous_clean_sql() ~ ')') }}
where invocation_id = '{{ invocation_id }}'
{%- endmacro %}

{#- The invocation before this one (its id), as a scalar subquery. -#}
{% macro test_slices_previous_invocation_sql() -%}
    (
        select previous.invocation_id
        from {{ test_slices_table('build_outcomes') }} as previous
        where previous.invocation_id <> '{{ invocation_id }}'
        order by previous.started_at desc
        limit 1
    )
{%- endmacro %}

{#- True when the invocation before this one left every table tested and clean. -#}
{% macro test_slices_previous_clean_sql() -%}
    coalesce((
        select outcome.clean
        from {{ test_slices_table('build_outcomes') }} as outcome
        where outcome.invocation_id = {{ test_slices_previous_invocation_sql() }}
    ), false)
{%- endmacro %}

{#- A test as defined: a generic test's unique_id carries a hash of its arguments; its `where` and the
    definition of its test (test_slices_test_definition) are added. -#}
{% macro test_slices_test_key(unique_id, where, test_name=none) -%}
    {{- unique_id ~ ':' ~ local_md5(where or '') ~ ':' ~ test_slices_test_definition(test_name) -}}
{%- endmacro %}

{#- The test's key as a SQL expression: test_slices_test_key, and for a test of a view the md5 of the
    view's definition as DuckDB holds it now (the view was created earlier in the same invocation). -#}
{% macro test_slices_test_key_sql(unique_id, where, test_name, attached) -%}
    '{{ test_slices_test_key(unique_id, where, test_name) }}'
    {%- if attached is not none and attached.config.materialized == 'view' %} || ':' || coalesce((
        select md5(v.sql) from duckdb_views() as v
        where v.database_name = '{{ attached.database }}' and v.schema_name = '{{ attached.schema }}'
            and v.view_name = '{{ attached.alias }}'
    ), '')
    {%- endif -%}
{%- endmacro %}

{#- The incremental model whose slice a view's tests read (see the top of this file), or none. -#}
{% macro test_slices_view_parent(view) -%}
    {%- if not (view.config.meta or {}).get('test_slices_from_parent') or view.config.materialized != 'view' -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set parents = view.depends_on.nodes -%}
    {%- set parent = graph.nodes.get(parents[0]) if parents | length == 1 else none -%}
    {%- if parent is none or parent.config.materialized != 'incremental' -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return(parent) }}
{%- endmacro %}

{#- What a generic test's SQL is made from besides its arguments: the text of this project's `{% test %}`
    block of that name (tests/generic/), else dbt's own (not_null, unique ...: the dbt version). So an edited
    test macro tests its whole table once, as a new test does. A macro the block calls is not covered. -#}
{% macro test_slices_test_definition(test_name) -%}
    {%- set own = insight_engine.get('test_' ~ test_name) if test_name else none -%}
    {{- local_md5(dbt_version ~ (own.macro.macro_sql if own is not none else '')) -}}
{%- endmacro %}

{#- True when this test, as defined now, passed in the invocation before this one. -#}
{% macro test_slices_previously_passed_sql(test_key_sql) -%}
    exists (
        select 1
        from {{ test_slices_table('passed_tests') }} as passed
        where passed.test_key = {{ test_key_sql }}
            and passed.invocation_id = {{ test_slices_previous_invocation_sql() }}
    )
{%- endmacro %}

{#- dbt's hook for a test's `where` config (dbt docs, "where"): the relation a generic test reads. -#}
{% macro get_where_subquery(relation) -%}
    {%- set slice = test_slice_filter(relation, config.get('where')) -%}
    {%- if slice -%}
        {%- do return('(' ~ slice ~ ') as dbt_subquery') -%}
    {%- endif -%}
    {%- do return(adapter.dispatch('get_where_subquery', 'dbt')(relation)) -%}
{%- endmacro %}

{#- The rows a test reads when it may read the slice, else none (see the top of this file). -#}
{% macro test_slice_filter(relation, where) -%}
    {{ return(adapter.dispatch('test_slice_filter', 'insight_engine')(relation, where)) }}
{%- endmacro %}

{% macro default__test_slice_filter(relation, where) -%}
    {{ return(none) }}
{%- endmacro %}

{% macro duckdb__test_slice_filter(relation, where) -%}
    {%- if not execute or not var('test_incremental_slices', true) or flags.FULL_REFRESH -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set metadata = model.test_metadata -%}
    {%- if not metadata -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set kwargs = metadata.kwargs or {} -%}
    {%- set attached = graph.nodes.get(model.attached_node) if model.attached_node else none -%}
    {#- the model whose slice the test reads: the tested model, or the parent a view names -#}
    {%- set sliced = test_slices_view_parent(attached) if attached is not none
        and attached.config.materialized == 'view' else attached -%}
    {%- if sliced is none or sliced.config.materialized != 'incremental' -%}
        {{ return(none) }}
    {%- endif -%}
    {%- if metadata.name in ['not_null', 'accepted_values'] -%}
        {%- set tested = none -%}
    {%- elif metadata.name == 'unique' -%}
        {%- set tested = [kwargs.get('column_name')] -%}
    {%- elif metadata.name == 'unique_combination_of_columns' and not kwargs.get('quote_columns') -%}
        {%- set tested = kwargs.get('combination_of_columns') -%}
    {%- else -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set keys = sliced.config.unique_key -%}
    {%- set keys = [keys] if keys is string else keys -%}
    {%- if not keys -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set found = run_query(
        "select (select t.comment from duckdb_tables() as t where t.database_name = '" ~ relation.database
        ~ "' and t.schema_name = '" ~ test_slices_schema() ~ "' and t.table_name = '" ~ sliced.alias
        ~ "') = '" ~ invocation_id ~ "' as written, " ~ test_slices_previous_clean_sql() ~ " as clean, "
        ~ test_slices_previously_passed_sql(test_slices_test_key_sql(model.unique_id, where, metadata.name,
            attached)) ~ " as passed"
    ) -%}
    {%- if not (found.rows[0][0] and found.rows[0][1] and found.rows[0][2]) -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set slice = api.Relation.create(
        database=relation.database, schema=test_slices_schema(), identifier=sliced.alias) -%}
    {%- set where_sql = where if where else 'true' -%}
    {#- explicit semi joins: the same filter as correlated `exists`, which DuckDB planned 6x slower here -#}
    {%- set written -%}
        select written.*
        from (select * from {{ relation }} where {{ where_sql }}) as written
        semi join {{ slice }} as test_slice
            on {% for key in keys -%}
                test_slice.{{ key }} is not distinct from written.{{ key }}
                {%- if not loop.last %} and {% endif -%}
            {%- endfor %}
    {%- endset -%}
    {%- if tested is none -%}
        {{ return(written) }}
    {%- endif -%}
    {%- set shared -%}
        select tested.*
        from (select * from {{ relation }} where {{ where_sql }}) as tested
        semi join (select distinct {{ tested | join(', ') }} from ({{ written }}) as written_rows) as shared
            on {% for column in tested -%}
                shared.{{ column }} is not distinct from tested.{{ column }}
                {%- if not loop.last %} and {% endif -%}
            {%- endfor %}
    {%- endset -%}
    {{ return(shared) }}
{%- endmacro %}
