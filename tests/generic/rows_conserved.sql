{#-
    Nothing is lost between the landing zone and staging: every raw row of `source_name.table_name` is
    either in the clean staging model (the model under test) or in its quarantine model.
-#}
{% test rows_conserved(model, source_name, table_name, quarantine_model) %}

with

raw_rows as (

    select count(*) as n_rows from {{ read_source(source_name, table_name) }} as raw_source

),

clean_rows as (

    select count(*) as n_rows from {{ model }}

),

quarantined_rows as (

    select count(*) as n_rows from {{ quarantine_model }}

),

final as (

    select
        raw_rows.n_rows as raw_row_count,
        clean_rows.n_rows as clean_row_count,
        quarantined_rows.n_rows as quarantined_row_count
    from raw_rows
    cross join clean_rows
    cross join quarantined_rows
    where raw_rows.n_rows <> clean_rows.n_rows + quarantined_rows.n_rows

)

select * from final

{% endtest %}
