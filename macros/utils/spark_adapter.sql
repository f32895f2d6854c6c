{#-
    Overrides of dbt-spark behaviour (the root project's `spark__` macros take precedence over the
    adapter's for dispatches in the `dbt` namespace).
-#}

{#-
    Constraints (contract `constraints:`) can only be added to Delta tables. dbt-spark decides by
    `config.get('file_format', 'delta')`, i.e. it assumes Delta when the model does not say, and then fails on
    the Parquet tables this project writes ("does not support ALTER COLUMN ... SET NOT NULL"). Assume the
    adapter's real default, Parquet: on Parquet the not_null data tests are the check; a model configured
    `file_format: delta` keeps its constraints.
-#}
{% macro spark__persist_constraints(relation, model) -%}
    {%- set contract_config = config.get('contract') -%}
    {%- if contract_config.enforced and config.get('file_format', 'parquet') == 'delta' -%}
        {%- do alter_table_add_constraints(relation, model.constraints) -%}
        {%- do alter_column_set_constraints(relation, model.columns) -%}
    {%- endif -%}
{%- endmacro %}

{#-
    Seeds: dbt-spark binds the CSV values as query parameters, and with `method: session` an empty CSV
    field (null) arrives as the text 'None' (dbt-labs/dbt-adapters#487, dbt-spark#901, open). Write the
    values into the INSERT as literals instead: null stays null on every connection method.
-#}
{% macro spark__load_csv_rows(model, agate_table) -%}
    {%- set batch_size = get_batch_size() -%}
    {%- set column_override = model['config'].get('column_types', {}) -%}
    {%- set statements = [] -%}
    {%- for chunk in agate_table.rows | batch(batch_size) -%}
        {%- set sql -%}
            insert into {{ this.render() }} values
            {% for row in chunk -%}
                ({%- for col_name in agate_table.column_names -%}
                    {%- set inferred_type = adapter.convert_type(agate_table, loop.index0) -%}
                    {%- set type = column_override.get(col_name, inferred_type) -%}
                    cast({{ spark_seed_literal(row[loop.index0]) }} as {{ type }})
                    {%- if not loop.last %}, {% endif -%}
                {%- endfor -%})
                {%- if not loop.last %},{% endif %}
            {% endfor %}
        {%- endset -%}
        {%- do adapter.add_query(sql, abridge_sql_log=True) -%}
        {%- if loop.index0 == 0 -%}
            {%- do statements.append(sql) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(statements[0]) }}
{%- endmacro %}

{#- A CSV value as a Spark SQL literal (Spark string literals unescape backslashes). -#}
{% macro spark_seed_literal(value) -%}
    {%- if value is none -%}
        null
    {%- elif value is sameas true or value is sameas false -%}
        {{ 'true' if value else 'false' }}
    {%- elif value is number -%}
        {{ value }}
    {%- else -%}
        '{{ (value | string) | replace("\\", "\\\\") | replace("'", "\\'") }}'
    {%- endif -%}
{%- endmacro %}

{#-
    Tables are Parquet unless a model says otherwise (`file_format: delta` on a cluster that has Delta).
    dbt-spark writes no USING clause when `file_format` is not configured, and then Spark 3.x creates a
    Hive text table (spark.sql.legacy.createHiveTableByDefault) while Spark 4 creates Parquet: say it.
-#}
{% macro spark__file_format_clause() -%}
    using {{ config.get('file_format', validator=validation.any[basestring]) or 'parquet' }}
{%- endmacro %}

{#-
    Column comments of a view (persist_docs columns: true) go into the Hive metastore's COLUMNS_V2.COMMENT,
    a VARCHAR(256) in the schema Spark's built-in metastore and most Hive-metastore clusters use. A longer
    comment fails that insert; the metastore retries it for about 20 seconds (hive.hmshandler.retry.*)
    before Spark stores the view another way, and every other metastore call of the run waits behind it:
    most of this project's views document a column at more length, and the Spark build spent minutes
    there (DECISIONLOG.md, "Spark column comments are cut to the metastore's 256 characters"). The comment
    is cut to var `spark_column_comment_max_chars` (default 256; raise it on a catalog that stores more,
    e.g. Unity Catalog), ending in an ellipsis; the full text stays in the dbt docs site.
    dbt-spark's macro of the same name, otherwise unchanged (the root project's macro takes precedence).
-#}
{% macro get_column_comment_sql(column_name, column_dict) -%}
    {%- set column_comment_clause = "" -%}
    {%- if column_name in column_dict and column_dict[column_name]["description"] -%}
        {%- set description = spark_column_comment(column_dict[column_name]["description"]) -%}
        {%- set column_comment_clause = "comment '" ~ (description | replace("'", "\\'")) ~ "'" -%}
    {%- endif -%}
    {{ adapter.quote(column_name) }} {{ column_comment_clause }}
{%- endmacro %}

{#- A description as a column comment the metastore can store: at most `spark_column_comment_max_chars`
    characters, whitespace collapsed, cut at a word and ended with an ellipsis when longer. -#}
{% macro spark_column_comment(description) -%}
    {%- set limit = var('spark_column_comment_max_chars', 256) | int -%}
    {%- set text = description.split() | join(' ') -%}
    {%- if text | length <= limit -%}
        {{- return(text) -}}
    {%- endif -%}
    {%- set head = text[:limit - 1] -%}
    {%- if ' ' in head -%}
        {%- set head = head.rsplit(' ', 1)[0] -%}
    {%- endif -%}
    {{- return(head ~ '…') -}}
{%- endmacro %}
