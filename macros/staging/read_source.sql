{#-
    Reads a landing-zone table the way real exports need it read. The raw-data contract is the source's
    YAML (`columns:` with `data_type` and `meta.required`, `meta.source_timezone` per source or table);
    insight_engine/contract.py reads the same YAML for the raw gate and the generator.

    * Parquet (`*.parquet`) and CSV (`*.csv`, `*.csv.gz`: header row, UTF-8 with or without BOM, RFC 4180
      quoting) files may both sit in a table's `load_date=YYYY-MM-DD` folders; each format is read on its
      own, cast to the contract, and the two are unioned.
    * Every contract column comes out, in contract order, as its contract type, whatever compatible type
      the file carries (integer ids, decimal amounts, 0/1 or 'true' booleans, numeric text ...): the cast
      rules are `landing_value` (macros/staging/landing_casts.sql). A value that cannot be cast is null
      and its column is named in `_uncastable_columns` (the base model quarantines the row as
      `uncastable_value`); an unparseable timestamp is told by `<column>_raw` instead.
    * Timestamp columns come out in UTC, parsed from any documented form (`parse_timestamp_utc`), with
      their text beside them as `<column>_raw` (the base models tell missing from unparseable).
    * A column missing from the files is typed nulls (logged), unless `meta.required`: then the run stops
      with an error naming table, column and folder. A table with no files reads as zero typed rows.
    * `_loaded_at` may be absent (real exports rarely carry it): then the end of the load day is used.

    `source()` is still called, so lineage, freshness and docs see the dependency.
-#}
{% macro read_source(source_name, table_name) -%}
    {%- set relation = source(source_name, table_name) -%}
    {%- if not execute -%}
        {{- return(relation) -}}
    {%- endif -%}
    {%- set columns = contract_columns(source_name, table_name) -%}
    {%- set zone = source_timezone(source_name, table_name) -%}
    {%- set parts = [] -%}
    {%- set counts = landing_file_counts(source_name, table_name) -%}
    {%- for file_format in ['parquet', 'csv'] -%}
        {%- set patterns = landing_patterns(source_name, table_name, file_format, counts) -%}
        {%- if patterns -%}
            {%- set reader = landing_reader(relation, patterns, file_format) -%}
            {%- set present = {} -%}
            {%- for row in describe_landing_columns(reader) -%}
                {%- do present.update({row[0] | lower: row[1]}) -%}
            {%- endfor -%}
            {%- do parts.append(
                landing_select(source_name, table_name, columns, present, reader, zone, patterns)) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if not parts -%}
        {{ log("read_source: no files for " ~ source_name ~ "." ~ table_name ~ " under "
               ~ landing_folder(source_name, table_name) ~ "; reading it as an empty table", info=true) }}
        (
            select
            {%- for col in columns %}
                cast(null as {{ landing_type(col.data_type) }}) as {{ col.name }},
                {%- if type_family(col.data_type) in ('timestamp', 'date') %}
                cast(null as {{ dbt.type_string() }}) as {{ col.name }}_raw,
                {%- endif %}
            {%- endfor %}
                cast(null as {{ dbt.type_string() }}) as _uncastable_columns,
                cast(null as timestamp) as _loaded_at,
                cast(null as date) as load_date
            where false
        )
    {%- else -%}
        (
        {%- for part in parts %}
            {{ part }}
            {%- if not loop.last %}
            union all
            {%- endif %}
        {%- endfor %}
        )
    {%- endif -%}
{%- endmacro %}

{#- RAW_ROOT: where the landing zone lives (absolute, or relative to the project folder). -#}
{% macro landing_folder(source_name, table_name) -%}
    {{- env_var('RAW_ROOT', 'data/raw').rstrip('/') ~ '/' ~ source_name ~ '/' ~ table_name -}}
{%- endmacro %}

{#- The file patterns of one format that match at least one file (an empty list: none); `counts` is
    `landing_file_counts()` of the table, listed once by the caller for both formats. -#}
{% macro landing_patterns(source_name, table_name, file_format, counts) -%}
    {%- set folder = landing_folder(source_name, table_name) -%}
    {%- set suffixes = ['.parquet'] if file_format == 'parquet' else ['.csv', '.csv.gz'] -%}
    {%- set found = [] -%}
    {%- for suffix in suffixes -%}
        {%- if counts[suffix] > 0 -%}
            {%- do found.append(folder ~ '/*/*' ~ suffix) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(found) }}
{%- endmacro %}

{#- The load dates of a table's `load_date=YYYY-MM-DD` folders that hold files it reads, as a
    relation of one `load_date` column, from the file names alone (no file is opened). DuckDB only:
    on Spark the one model that lists loads is rebuilt whole (fill_rates_config). -#}
{% macro landing_load_dates(source_name, table_name) -%}
    {%- set counts = landing_file_counts(source_name, table_name) -%}
    {%- set patterns = landing_patterns(source_name, table_name, 'parquet', counts)
        + landing_patterns(source_name, table_name, 'csv', counts) -%}
    {%- if not patterns -%}
        (select cast(null as date) as load_date where false)
    {%- else -%}
        (
            select
                try_cast(
                    regexp_extract(file, '/load_date=([0-9]{4}-[0-9]{2}-[0-9]{2})/[^/]*$', 1) as date
                ) as load_date
            from glob(['{{ patterns | join("', '") }}'])
        )
    {%- endif -%}
{%- endmacro %}

{#- How many landing files of a table end with each suffix it may be read from, from one listing:
    {'.parquet': n, '.csv': n, '.csv.gz': n}. -#}
{% macro landing_file_counts(source_name, table_name) -%}
    {{ return(adapter.dispatch('landing_file_counts', 'insight_engine')(source_name, table_name)) }}
{%- endmacro %}

{#- A file in a load folder (`<table>/<load folder>/<file>`), as the readers' patterns find it. -#}
{% macro default__landing_file_counts(source_name, table_name) -%}
    {%- set glob = landing_folder(source_name, table_name) ~ '/*/*' -%}
    {%- set row = run_query(
        "select count(*) filter (where file like '%.parquet'), count(*) filter (where file like '%.csv'), "
        ~ "count(*) filter (where file like '%.csv.gz') from glob('" ~ glob ~ "')"
    ).rows[0] -%}
    {{ return({'.parquet': row[0], '.csv': row[1], '.csv.gz': row[2]}) }}
{%- endmacro %}

{#-
    Spark: reading a path that does not exist (or holds no files) is an error, and Jinja cannot catch
    errors. So list the files with the binaryFile source over RAW_ROOT itself (which must exist), recursively
    and without partition discovery, and count those under the table's folder by suffix: one view and one
    query a table (a view and a count per suffix took 294 of the parity build's 1,379 statements). Only
    paths are read, never the files' contents.
-#}
{% macro spark__landing_file_counts(source_name, table_name) -%}
    {%- set root = env_var('RAW_ROOT', 'data/raw').rstrip('/') -%}
    {%- set view_name = 'landing_files__' ~ source_name ~ '__' ~ table_name -%}
    {%- call statement('landing_files_' ~ view_name) -%}
        create or replace temporary view {{ view_name }}
        using binaryFile
        options (path '{{ root }}', recursiveFileLookup 'true')
    {%- endcall -%}
    {%- set row = run_query(
        "select"
        ~ " coalesce(sum(case when path like '%.parquet' then 1 else 0 end), 0),"
        ~ " coalesce(sum(case when path like '%.csv' then 1 else 0 end), 0),"
        ~ " coalesce(sum(case when path like '%.csv.gz' then 1 else 0 end), 0)"
        ~ " from " ~ view_name ~ " where path like '%/" ~ source_name ~ "/" ~ table_name ~ "/%'"
    ).rows[0] -%}
    {{ return({'.parquet': row[0], '.csv': row[1], '.csv.gz': row[2]}) }}
{%- endmacro %}

{#- A relation over the files of one format. -#}
{% macro landing_reader(relation, patterns, file_format) -%}
    {{ return(adapter.dispatch('landing_reader', 'insight_engine')(relation, patterns, file_format)) }}
{%- endmacro %}

{#-
    CSV: every column as text (the contract casts it), '' and unquoted empty fields as null. The options
    match CSV_READ_OPTIONS in insight_engine/contract.py, which the raw gate uses.
-#}
{% macro default__landing_reader(relation, patterns, file_format) -%}
    {%- if file_format == 'parquet' -%}
        {{ return(relation) }}
    {%- endif -%}
    {{ return("read_csv(['" ~ patterns | join("', '") ~ "'], " ~ landing_csv_options() ~ ")") }}
{%- endmacro %}

{% macro landing_csv_options() -%}
    header = true, all_varchar = true, union_by_name = true, hive_partitioning = true,
    hive_types = {'load_date': DATE}, delim = ',', quote = '"', escape = '"', skip = 0,
    strict_mode = true, null_padding = false, allow_quoted_nulls = true, encoding = 'utf-8'
{%- endmacro %}

{#- Spark: a temporary view over the table's folder (partition discovery gives `load_date`). -#}
{% macro spark__landing_reader(relation, patterns, file_format) -%}
    {%- if file_format == 'parquet' -%}
        {{ return(relation) }}
    {%- endif -%}
    {%- set folder = patterns[0].rsplit('/', 2)[0] -%}
    {%- set view_name = 'landing_csv__' ~ folder.rstrip('/').split('/')[-2] ~ '__' ~ folder.rstrip('/').split('/')[-1] -%}
    {%- call statement('landing_csv_' ~ view_name) -%}
        create or replace temporary view {{ view_name }}
        using csv
        options (
            path '{{ folder }}', pathGlobFilter '*.csv*', header 'true', multiLine 'true',
            escape '"', quote '"', encoding 'UTF-8', inferSchema 'false'
        )
    {%- endcall -%}
    {{ return(view_name) }}
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

{#-
    The IANA zone naive timestamps of a table are written in: env SOURCE_TIMEZONES
    (`system=Zone` or `system.table=Zone`, comma-separated) wins over the table's, then the source's,
    `meta.source_timezone`; default UTC. insight_engine/contract.py reads it the same way.
-#}
{% macro source_timezone(source_name, table_name) -%}
    {%- set node = graph.sources['source.insight_engine.' ~ source_name ~ '.' ~ table_name] -%}
    {%- set zone = {'value': node.meta.get('source_timezone') or node.source_meta.get('source_timezone') or 'UTC'} -%}
    {%- set overrides = {} -%}
    {%- for part in env_var('SOURCE_TIMEZONES', '').split(',') if part.strip() -%}
        {%- set pair = part.split('=') -%}
        {%- if pair | length != 2 -%}
            {{ exceptions.raise_compiler_error(
                "SOURCE_TIMEZONES: cannot read '" ~ part ~ "'; write system=Zone or system.table=Zone, "
                ~ "comma-separated (e.g. commerce=America/Sao_Paulo)") }}
        {%- endif -%}
        {%- do overrides.update({pair[0].strip(): pair[1].strip()}) -%}
    {%- endfor -%}
    {%- do zone.update({'value': overrides.get(source_name ~ '.' ~ table_name)
                                  or overrides.get(source_name) or zone.value}) -%}
    {%- if not modules.re.match('^[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+)*$', zone.value) -%}
        {{ exceptions.raise_compiler_error(
            "Time zone '" ~ zone.value ~ "' for " ~ source_name ~ "." ~ table_name
            ~ " is not an IANA zone name (e.g. UTC, Europe/Istanbul, America/Sao_Paulo).") }}
    {%- endif -%}
    {{ return(zone.value) }}
{%- endmacro %}

{#- One format's files as the contract: every column cast, timestamps in UTC, `_uncastable_columns`. -#}
{% macro landing_select(source_name, table_name, columns, present, reader, zone, patterns) -%}
    {%- set checks = [] -%}
    {%- for col in columns -%}
        {%- if col.name not in present and col.meta.get('required', false) -%}
            {{ exceptions.raise_compiler_error(
                "Landing files for " ~ source_name ~ "." ~ table_name ~ " (" ~ patterns | join(', ')
                ~ ") have no column '" ~ col.name ~ "', which the raw-data contract requires. Fix the "
                ~ "export, or move the bad load_date folder aside and rerun.") }}
        {%- elif col.name in present -%}
            {%- if not landing_type_compatible(col.data_type, present[col.name]) -%}
                {{ exceptions.raise_compiler_error(
                    "Landing files for " ~ source_name ~ "." ~ table_name ~ " (" ~ patterns | join(', ')
                    ~ "): column '" ~ col.name ~ "' is " ~ present[col.name] ~ ", which cannot hold a "
                    ~ col.data_type ~ " (the raw-data contract). Fix the export, or move the bad load_date "
                    ~ "folder aside and rerun.") }}
            {%- endif -%}
            {#- text never fails; timestamps have their own reason (timestamp_row_reasons, from `<col>_raw`) -#}
            {%- if type_family(col.data_type) not in ('string', 'timestamp')
                and native_family(present[col.name]) != 'null' -%}
                {%- do checks.append(col) -%}
            {%- endif -%}
        {%- else -%}
            {{ log("read_source: " ~ source_name ~ "." ~ table_name ~ " (" ~ patterns[0] ~ ") has no column '"
                   ~ col.name ~ "'; it reads as null", info=true) }}
        {%- endif -%}
    {%- endfor %}
    select
    {%- for col in columns %}
        {%- if col.name in present %}
        {{ landing_value(adapter.quote(col.name), present[col.name], col.data_type, zone) }} as {{ col.name }},
        {%- else %}
        cast(null as {{ landing_type(col.data_type) }}) as {{ col.name }},
        {%- endif %}
        {%- if type_family(col.data_type) in ('timestamp', 'date') %}
            {%- if col.name in present %}
        {{ clean_text(adapter.quote(col.name)) }} as {{ col.name }}_raw,
            {%- else %}
        cast(null as {{ dbt.type_string() }}) as {{ col.name }}_raw,
            {%- endif %}
        {%- endif %}
    {%- endfor %}
        {%- if checks %}
        nullif(concat_ws(','
        {%- for col in checks %}
            , case when {{ landing_value_failed(adapter.quote(col.name), present[col.name], col.data_type, zone) }}
                then '{{ col.name }}' end
        {%- endfor %}
        ), '') as _uncastable_columns,
        {%- else %}
        cast(null as {{ dbt.type_string() }}) as _uncastable_columns,
        {%- endif %}
        {%- if '_loaded_at' in present %}
        coalesce(
            {{ landing_value('_loaded_at', present['_loaded_at'], 'timestamp', 'UTC') }},
            {{ end_of_load_day('load_date') }}
        ) as _loaded_at,
        {%- else %}
        {{ end_of_load_day('load_date') }} as _loaded_at,
        {%- endif %}
        cast(load_date as date) as load_date
    from {{ reader }}
{%- endmacro %}
