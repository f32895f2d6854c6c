{#- The combination of `combination_of_columns` identifies a row: no two rows share it.
    dbt_utils.unique_combination_of_columns, written by hand (no package hub offline) and kept to its
    reference behaviour (dbt_packages/dbt_utils): the same arguments (`quote_columns` quotes the column
    names), the same failing rows (one per duplicated combination). -#}
{% test unique_combination_of_columns(model, combination_of_columns, quote_columns=false) %}

{%- if quote_columns %}
    {%- set column_list = [] %}
    {%- for column in combination_of_columns %}
        {%- do column_list.append(adapter.quote(column)) %}
    {%- endfor %}
{%- else %}
    {%- set column_list = combination_of_columns %}
{%- endif %}
{%- set columns_csv = column_list | join(', ') %}

with

validation_errors as (

    select {{ columns_csv }}
    from {{ model }}
    group by {{ columns_csv }}
    having count(*) > 1

)

select * from validation_errors

{% endtest %}
