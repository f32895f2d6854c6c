{#-
    Reads a landing-zone source the way real exports need it read:

    * every column of the contract (the source's YAML `columns:` with `data_type`) comes out, in
      contract order, cast to its contract type;
    * a column missing from the files is filled with typed nulls (and logged), unless its
      `meta.required` is true: then the run stops with an error naming the table and the column;
    * a column whose files carry an incompatible type (text where a number is due) stops the run;
    * a table with no files at all (no web data, no cases) reads as zero typed rows.

    `source()` is still called, so lineage, freshness and docs see the dependency.
-#}
{% macro read_source(source_name, table_name) -%}
    {{ return(adapter.dispatch('read_source', 'insight_engine')(source_name, table_name)) }}
{%- endmacro %}

{% macro landing_glob(source_name, table_name) -%}
    {#- RAW_ROOT: where the landing zone lives (absolute, or relative to the project folder). -#}
    {{- env_var('RAW_ROOT', 'data/raw') ~ '/' ~ source_name ~ '/' ~ table_name ~ '/*/*.parquet' -}}
{%- endmacro %}

{#- How many landing files a table has (0: read it as an empty typed table). -#}
{% macro landing_file_count(source_name, table_name) -%}
    {{ return(adapter.dispatch('landing_file_count', 'insight_engine')(source_name, table_name)) }}
{%- endmacro %}

{% macro default__landing_file_count(source_name, table_name) -%}
    {%- set glob = landing_glob(source_name, table_name) -%}
    {{ return(run_query("select count(*) from glob('" ~ glob ~ "')").columns[0].values()[0]) }}
{%- endmacro %}

{#-
    Spark: reading a path that does not exist (or holds no Parquet) is an error, and Jinja cannot catch
    errors. So list the files with the binaryFile source over RAW_ROOT itself (which must exist), recursively
    and without partition discovery, and count those under the table's folder. Only paths are read, never
    the files' contents.
-#}
{% macro spark__landing_file_count(source_name, table_name) -%}
    {%- set root = env_var('RAW_ROOT', 'data/raw').rstrip('/') -%}
    {%- set view_name = 'landing_files__' ~ source_name ~ '__' ~ table_name -%}
    {%- call statement('landing_files_' ~ source_name ~ '__' ~ table_name) -%}
        create or replace temporary view {{ view_name }}
        using binaryFile
        options (path '{{ root }}', recursiveFileLookup 'true', pathGlobFilter '*.parquet')
    {%- endcall -%}
    {%- set counted = run_query(
        "select count(*) from " ~ view_name
        ~ " where path like '%/" ~ source_name ~ "/" ~ table_name ~ "/%'"
    ) -%}
    {{ return(counted.columns[0].values()[0]) }}
{%- endmacro %}

{#- The columns the landing files carry: rows of (name, type, ...). -#}
{% macro describe_landing_columns(relation) -%}
    {{ return(adapter.dispatch('describe_landing_columns', 'insight_engine')(relation)) }}
{%- endmacro %}

{% macro default__describe_landing_columns(relation) -%}
    {{ return(run_query("describe select * from " ~ relation).rows) }}
{%- endmacro %}

{#- Spark: `describe query` (plain `describe` needs a catalog table, not a path relation). -#}
{% macro spark__describe_landing_columns(relation) -%}
    {{ return(run_query("describe query select * from " ~ relation).rows) }}
{%- endmacro %}

{% macro contract_columns(source_name, table_name) -%}
    {%- set node = graph.sources['source.insight_engine.' ~ source_name ~ '.' ~ table_name] -%}
    {{- return(node.columns.values() | list) -}}
{%- endmacro %}

{% macro type_family(data_type) -%}
    {%- set t = data_type | lower -%}
    {%- if t.startswith('varchar') or t.startswith('string') or t == 'text' -%}{{ return('string') }}
    {%- elif t in ('bigint', 'integer', 'int', 'smallint', 'tinyint', 'hugeint', 'ubigint', 'uinteger') -%}
        {{ return('integer') }}
    {%- elif t in ('double', 'float', 'real') or t.startswith('decimal') -%}{{ return('number') }}
    {%- elif t in ('boolean', 'bool') -%}{{ return('boolean') }}
    {%- elif t.startswith('timestamp') -%}{{ return('timestamp') }}
    {%- elif t == 'date' -%}{{ return('date') }}
    {%- else -%}{{ return(t) }}
    {%- endif -%}
{%- endmacro %}

{#- One body for every engine: the engine-specific parts are landing_file_count and
    describe_landing_columns. -#}
{% macro default__read_source(source_name, table_name) -%}
    {%- set relation = source(source_name, table_name) -%}
    {%- if not execute -%}
        {{- return(relation) -}}
    {%- endif -%}
    {%- set columns = contract_columns(source_name, table_name) -%}
    {%- set glob = landing_glob(source_name, table_name) -%}
    {%- set n_files = landing_file_count(source_name, table_name) -%}
    {%- if n_files == 0 -%}
        {{ log("read_source: no files for " ~ source_name ~ "." ~ table_name ~ " under " ~ glob
               ~ "; reading it as an empty table", info=true) }}
        (
            select
            {%- for col in columns %}
                cast(null as {{ col.data_type }}) as {{ col.name }},
            {%- endfor %}
                cast(null as timestamp) as _loaded_at,
                cast(null as date) as load_date
            where false
        )
    {%- else -%}
        {%- set present = {} -%}
        {%- for row in describe_landing_columns(relation) -%}
            {%- do present.update({row[0] | lower: row[1]}) -%}
        {%- endfor -%}
        {%- for col in columns -%}
            {%- if col.name not in present and col.meta.get('required', false) -%}
                {{ exceptions.raise_compiler_error(
                    "Landing files for " ~ source_name ~ "." ~ table_name ~ " (" ~ glob ~ ") have no column '"
                    ~ col.name ~ "', which the raw-data contract requires. Fix the export, or move the bad "
                    ~ "load_date folder aside and rerun.") }}
            {%- elif col.name in present -%}
                {%- set want = type_family(col.data_type) -%}
                {%- set got = type_family(present[col.name]) -%}
                {%- set ok = want == got
                    or (want == 'number' and got == 'integer')
                    or (want == 'string' and got in ('timestamp', 'date')) -%}
                {%- if not ok -%}
                    {{ exceptions.raise_compiler_error(
                        "Landing files for " ~ source_name ~ "." ~ table_name ~ " (" ~ glob ~ "): column '"
                        ~ col.name ~ "' is " ~ present[col.name] ~ " but the raw-data contract says "
                        ~ col.data_type ~ ". Fix the export, or move the bad load_date folder aside and rerun.") }}
                {%- endif -%}
            {%- else -%}
                {{ log("read_source: " ~ source_name ~ "." ~ table_name ~ " has no column '" ~ col.name
                       ~ "'; it reads as null", info=true) }}
            {%- endif -%}
        {%- endfor %}
        (
            select
            {%- for col in columns %}
                {%- if col.name in present %}
                cast({{ col.name }} as {{ col.data_type }}) as {{ col.name }},
                {%- else %}
                cast(null as {{ col.data_type }}) as {{ col.name }},
                {%- endif %}
            {%- endfor %}
                cast(_loaded_at as timestamp) as _loaded_at,
                cast(load_date as date) as load_date
            from {{ relation }}
        )
    {%- endif -%}
{%- endmacro %}
