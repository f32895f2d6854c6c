{#- Engine differences, one macro each, DuckDB and Spark side by side (adapter.dispatch). -#}

{#- Replace every match of an RE2-syntax `pattern` (the one regex-replace macro: staging, identity and
    verbatims all use it). Write groups in `replacement` as \1; quotes and backslashes are escaped for
    each engine. DuckDB needs the 'g' flag; Spark replaces every match, unescapes backslashes in string
    literals and writes groups as $1 (Java). -#}
{% macro regexp_replace_all(expression, pattern, replacement) -%}
    {{ return(adapter.dispatch('regexp_replace_all', 'insight_engine')(expression, pattern, replacement)) }}
{%- endmacro %}

{% macro default__regexp_replace_all(expression, pattern, replacement) -%}
    regexp_replace(
        {{ expression }},
        '{{ pattern | replace("'", "''") }}',
        '{{ replacement | replace("'", "''") }}',
        'g'
    )
{%- endmacro %}

{% macro spark__regexp_replace_all(expression, pattern, replacement) -%}
    regexp_replace(
        {{ expression }},
        '{{ pattern | replace("\\", "\\\\") | replace("'", "\\'") }}',
        '{{ replacement | replace("\\1", "$1") | replace("'", "\\'") }}'
    )
{%- endmacro %}

{#- A deterministic text key from several columns: dbt_utils.generate_surrogate_key, written by hand
    (no package hub offline) and kept to its reference behaviour (dbt_packages/dbt_utils): each column
    cast to text, null as '_dbt_utils_surrogate_key_null_' (so null and '' differ), joined with '-',
    hashed with dbt.hash (md5). -#}
{% macro surrogate_key(columns) -%}
    {%- set fields = [] -%}
    {%- for col in columns -%}
        {%- do fields.append(
            "coalesce(cast(" ~ col ~ " as " ~ dbt.type_string() ~ "), '_dbt_utils_surrogate_key_null_')"
        ) -%}
        {%- if not loop.last -%}
            {%- do fields.append("'-'") -%}
        {%- endif -%}
    {%- endfor -%}
    {{ dbt.hash(dbt.concat(fields)) }}
{%- endmacro %}

{#-
    Round half up to `digits` decimals, as a double, identically on every engine. round() on a double
    does not agree: DuckDB rounds the binary value (1.005 is 1.00499999... -> 1.0), Spark rounds its
    shortest decimal form (-> 1.01). Rounding an exact decimal(38, 10) behaves the same on both.
-#}
{% macro round_half_up(expression, digits) -%}
    {{ return(adapter.dispatch('round_half_up', 'insight_engine')(expression, digits)) }}
{%- endmacro %}

{% macro default__round_half_up(expression, digits) -%}
    cast(round(cast({{ expression }} as decimal(38, 10)), {{ digits }}) as double)
{%- endmacro %}

{#- DuckDB: the same value, through a 64-bit decimal(18, 10) where it fits (macro `exact_decimal_fits`). -#}
{% macro duckdb__round_half_up(expression, digits) -%}
    case
        when {{ exact_decimal_fits(expression) }}
            then cast(round(cast({{ expression }} as decimal(18, 10)), {{ digits }}) as double)
        else cast(round(cast({{ expression }} as decimal(38, 10)), {{ digits }}) as double)
    end
{%- endmacro %}

{#-
    True where a value fits a decimal(18, 10) (below 1e8; 1e7 leaves room for the rounding). DuckDB casts a
    double to the 64-bit decimal(18, 10) about 150 times faster than to the 128-bit decimal(38, 10)
    (10M values: 0.05 s against 7.3 s), with the same result: no difference over 44.6M values from -2,000
    to 20,000 in steps of 0.001 and random values up to 1e8 (DECISIONLOG.md, "Rounding money through a
    64-bit decimal on DuckDB"). Larger values, and null, take the 128-bit path.
-#}
{% macro exact_decimal_fits(expression) -%}
    abs({{ expression }}) < 1e7
{%- endmacro %}

{#- A timestamp as ISO-8601 text without fraction or zone: `2026-06-03T10:11:12`. -#}
{% macro iso_timestamp_text(expression) -%}
    {{ return(adapter.dispatch('iso_timestamp_text', 'insight_engine')(expression)) }}
{%- endmacro %}

{% macro default__iso_timestamp_text(expression) -%}
    strftime({{ expression }}, '%Y-%m-%dT%H:%M:%S')
{%- endmacro %}

{% macro spark__iso_timestamp_text(expression) -%}
    date_format({{ expression }}, "yyyy-MM-dd'T'HH:mm:ss")
{%- endmacro %}

{#-
    Whole days from `start_at` to `end_at` (timestamps or dates): calendar-day boundaries crossed, like
    DuckDB's date_diff('day', ...). Spark's datediff(day, a, b) counts elapsed 24-hour periods instead,
    so Spark compares the dates (in the session time zone, UTC).
-#}
{% macro days_between(start_at, end_at) -%}
    {{ return(adapter.dispatch('days_between', 'insight_engine')(start_at, end_at)) }}
{%- endmacro %}

{% macro default__days_between(start_at, end_at) -%}
    date_diff('day', {{ start_at }}, {{ end_at }})
{%- endmacro %}

{% macro spark__days_between(start_at, end_at) -%}
    datediff(cast({{ end_at }} as date), cast({{ start_at }} as date))
{%- endmacro %}

{#-
    A select of (table_schema, table_name, column_name) for every column of every table and view in
    `schemas`, from the warehouse catalogue (so columns no YAML declares are included too).
-#}
{% macro catalog_columns(schemas) -%}
    {{ return(adapter.dispatch('catalog_columns', 'insight_engine')(schemas)) }}
{%- endmacro %}

{% macro default__catalog_columns(schemas) -%}
    select
        table_schema,
        table_name,
        column_name
    from information_schema.columns
    where
        table_catalog = '{{ target.database }}'
        and table_schema in ('{{ schemas | join("', '") }}')
{%- endmacro %}

{#-
    Spark (without Unity Catalog) has no information_schema: list the tables with SHOW TABLES, then
    each table's columns. dbt runs other nodes meanwhile (threads), so a listed table can be gone a
    moment later: a unit test's `<name>__dbt_tmp` view, or a table dbt-spark drops and re-creates.
    Transient `__dbt_tmp`/`__dbt_backup` relations are skipped, and the columns are read through
    adapter.get_columns_in_relation, which returns none for a table that no longer exists instead
    of failing the test (SHOW COLUMNS did: CI, stop 21).
-#}
{% macro spark__catalog_columns(schemas) -%}
    {%- set found = [] -%}
    {%- if execute -%}
        {%- set existing = run_query('show schemas').columns[0].values() | map('lower') | list -%}
        {%- for schema in schemas if schema | lower in existing -%}
            {%- for table in run_query('show tables in ' ~ schema).rows
                if not table[2]
                and not table[1].endswith('__dbt_tmp')
                and not table[1].endswith('__dbt_backup') -%}
                {%- set relation = api.Relation.create(schema=schema, identifier=table[1]) -%}
                {%- for column in adapter.get_columns_in_relation(relation) -%}
                    {%- do found.append((schema, table[1], column.name)) -%}
                {%- endfor -%}
            {%- endfor -%}
        {%- endfor -%}
    {%- endif -%}
    {%- if found %}
    select * from (
        values
        {%- for schema, table, column in found %}
        ('{{ schema }}', '{{ table }}', '{{ column }}'){{ ',' if not loop.last }}
        {%- endfor %}
    ) as catalog_columns (table_schema, table_name, column_name)
    {%- else %}
    select
        cast(null as string) as table_schema,
        cast(null as string) as table_name,
        cast(null as string) as column_name
    where false
    {%- endif %}
{%- endmacro %}

{#- A CTE read several times with different filters: DuckDB materializes such a CTE whole by default
    (every row read once into memory, then filtered); `not materialized` lets each reader push its own
    filter (a list of loads) into the scan. Spark inlines CTEs anyway and has no such keyword. -#}
{% macro cte_not_materialized() -%}
    {{ return(adapter.dispatch('cte_not_materialized', 'insight_engine')()) }}
{%- endmacro %}

{% macro default__cte_not_materialized() -%}
    not materialized
{%- endmacro %}

{% macro spark__cte_not_materialized() -%}
{%- endmacro %}

{#- A CTE several readers share, computed once for all of them (use in a call block; the CTE ends with a
    comma):

        {% call cte_computed_once('cutoff') %} select ... {% endcall %}

    DuckDB already computes a CTE read more than once a single time. Spark inlines every deterministic
    CTE at each reference, so a chain of small CTEs that read each other (the incremental recipe's loads
    and ids, each read by several later ones) multiplies into dozens of copies of the same scans and
    stages: `base_survey__surveys`' day-2 statement ran 48 jobs for 10 rows. A CTE that is not
    deterministic is not inlined: Spark runs it once and every reader reuses its result (33 jobs, 3.7 s
    against 8.5 s warm). So on Spark the body gets a filter that is always true but not deterministic
    (`rand()` lies in [0, 1)). -#}
{% macro cte_computed_once(name) -%}
{{ name }} as (
{{ adapter.dispatch('cte_computed_once_body', 'insight_engine')(name, caller()) }}
),
{%- endmacro %}

{% macro default__cte_computed_once_body(name, body) -%}
{{ body }}
{%- endmacro %}

{% macro spark__cte_computed_once_body(name, body) -%}
    select *
    from (
{{ body }}
    ) as {{ name }}_body
    -- always true, not deterministic: Spark computes this CTE once for all its readers (cte_computed_once)
    where rand() < 1
{%- endmacro %}
