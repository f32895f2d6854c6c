{#-
    Snapshots on Spark without Delta/Iceberg/Hudi (DESIGN.md section 5: their jars come from Maven at run
    time, which a locked-down cluster or CI cannot reach). dbt-spark's snapshot materialization refuses
    plain Parquet because it updates rows with MERGE. For Parquet this one rebuilds the snapshot instead:

      new snapshot = old rows (dbt_valid_to closed where the staging rows say 'update'/'delete')
                     union all staging rows with dbt_change_type 'insert'

    written to a side table and swapped in with `insert overwrite` (Spark cannot overwrite a table it
    reads from in the same statement). The result is what dbt's MERGE would produce; the cost is a full
    rewrite of the snapshot per run, which is fine for a customer-profile history. Delta, Iceberg and
    Hudi tables keep dbt-spark's MERGE path unchanged.

    A project materialization for adapter 'spark' takes precedence over the adapter's own.
-#}
{% materialization snapshot, adapter='spark' %}

  {%- set target_table = model.get('alias', model.get('name')) -%}

  {%- set strategy_name = config.get('strategy') -%}
  {%- set file_format = config.get('file_format') or 'parquet' -%}
  {%- set grant_config = config.get('grants') -%}
  {%- set mergeable_formats = ['delta', 'iceberg', 'hudi'] -%}

  {% set target_relation_exists, target_relation = get_or_create_relation(
          database=none,
          schema=model.schema,
          identifier=target_table,
          type='table') -%}

  {%- if file_format not in mergeable_formats + ['parquet'] -%}
    {% do exceptions.raise_compiler_error(
        "Snapshot " ~ target_table ~ ": file_format " ~ file_format
        ~ " is not supported; use parquet, delta, iceberg or hudi") %}
  {% endif %}

  {% if not adapter.check_schema_exists(model.database, model.schema) %}
    {% do create_schema(model.schema) %}
  {% endif %}

  {%- if not target_relation.is_table -%}
    {% do exceptions.relation_wrong_type(target_relation, 'table') %}
  {%- endif -%}

  {{ run_hooks(pre_hooks, inside_transaction=False) }}

  {{ run_hooks(pre_hooks, inside_transaction=True) }}

  {% set strategy_macro = strategy_dispatch(strategy_name) %}
  {% set strategy = strategy_macro(model, "snapshotted_data", "source_data", model['config'], target_relation_exists) %}

  {% if not target_relation_exists %}

      {% set build_sql = build_snapshot_table(strategy, model['compiled_code']) %}
      {% set final_sql = create_table_as(False, target_relation, build_sql) %}

  {% else %}

      {% set columns = config.get("snapshot_table_column_names") or get_snapshot_table_column_names() %}

      {{ adapter.valid_snapshot_target(target_relation, columns) }}

      {% set staging_table = spark_build_snapshot_staging_table(strategy, sql, target_relation) %}

      {% set missing_columns = adapter.get_missing_columns(staging_table, target_relation)
                                   | rejectattr('name', 'equalto', 'dbt_change_type')
                                   | rejectattr('name', 'equalto', 'DBT_CHANGE_TYPE')
                                   | rejectattr('name', 'equalto', 'dbt_unique_key')
                                   | rejectattr('name', 'equalto', 'DBT_UNIQUE_KEY')
                                   | list %}

      {% do create_columns(target_relation, missing_columns) %}

      {% if target_relation.is_delta or target_relation.is_iceberg or target_relation.is_hudi %}

          {% set source_columns = adapter.get_columns_in_relation(staging_table)
                                       | rejectattr('name', 'equalto', 'dbt_change_type')
                                       | rejectattr('name', 'equalto', 'DBT_CHANGE_TYPE')
                                       | rejectattr('name', 'equalto', 'dbt_unique_key')
                                       | rejectattr('name', 'equalto', 'DBT_UNIQUE_KEY')
                                       | list %}
          {% set quoted_source_columns = [] %}
          {% for column in source_columns %}
            {% do quoted_source_columns.append(adapter.quote(column.name)) %}
          {% endfor %}
          {% set final_sql = snapshot_merge_sql(
                target = target_relation,
                source = staging_table,
                insert_cols = quoted_source_columns
             ) %}

      {% else %}

          {% set rebuilt_relation = make_temp_relation(target_relation, '__dbt_rebuilt').incorporate(type='table') %}
          {% do adapter.drop_relation(rebuilt_relation) %}
          {% set target_columns = adapter.get_columns_in_relation(target_relation) %}
          {% call statement('build_snapshot_rebuilt') %}
            create table {{ rebuilt_relation }} using parquet as
            select
            {%- for column in target_columns %}
              {%- if column.name == columns.dbt_valid_to %}
                case
                    when closing.{{ columns.dbt_scd_id }} is not null then closing.{{ columns.dbt_valid_to }}
                    else snapshotted.{{ adapter.quote(column.name) }}
                end as {{ adapter.quote(column.name) }}
              {%- else %}
                snapshotted.{{ adapter.quote(column.name) }}
              {%- endif %}
              {{- ',' if not loop.last }}
            {%- endfor %}
            from {{ target_relation }} as snapshotted
            left join (
                select {{ columns.dbt_scd_id }}, {{ columns.dbt_valid_to }}
                from {{ staging_table }}
                where dbt_change_type in ('update', 'delete')
            ) as closing
                on snapshotted.{{ columns.dbt_scd_id }} = closing.{{ columns.dbt_scd_id }}
                and snapshotted.{{ columns.dbt_valid_to }} is null
            union all
            select
            {%- for column in target_columns %}
                {{ adapter.quote(column.name) }}{{ ',' if not loop.last }}
            {%- endfor %}
            from {{ staging_table }}
            where dbt_change_type = 'insert'
          {% endcall %}

          {% set final_sql %}
            insert overwrite table {{ target_relation }}
            select * from {{ rebuilt_relation }}
          {% endset %}

      {% endif %}

  {% endif %}

  {% call statement('main') %}
      {{ final_sql }}
  {% endcall %}

  {% if rebuilt_relation is defined %}
      {% do adapter.drop_relation(rebuilt_relation) %}
  {% endif %}

  {% set should_revoke = should_revoke(target_relation_exists, full_refresh_mode) %}
  {% do apply_grants(target_relation, grant_config, should_revoke) %}

  {% do persist_docs(target_relation, model) %}

  {{ run_hooks(post_hooks, inside_transaction=True) }}

  {{ adapter.commit() }}

  {% if staging_table is defined %}
      {% do post_snapshot(staging_table) %}
  {% endif %}

  {{ run_hooks(post_hooks, inside_transaction=False) }}

  {{ return({'relations': [target_relation]}) }}

{% endmaterialization %}
