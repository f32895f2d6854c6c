{#-
    No column of a table in the BI schemas (core, rox) is named like a PII field: e-mail, phone, first
    or last name, birth date. PII lives only in restricted.dim_customers (and staging, snapshots), which
    are never published. Reads the warehouse catalogue, so it also catches columns a YAML does not
    declare. The depends_on lines make the test run after the marts it guards are built.
-#}

-- depends_on: {{ ref('fct_survey_responses') }}
-- depends_on: {{ ref('fct_survey_invitations') }}
-- depends_on: {{ ref('fct_journey_events') }}

with

bi_columns as (

    {{ catalog_columns(['core', 'rox']) }}

),

pii_columns as (

    select
        table_schema,
        table_name,
        column_name
    from bi_columns
    where
        lower(column_name) like '%email%'
        or lower(column_name) like '%e_mail%'
        or lower(column_name) like '%phone%'
        or lower(column_name) like '%first_name%'
        or lower(column_name) like '%last_name%'
        or lower(column_name) like '%firstname%'
        or lower(column_name) like '%lastname%'
        or lower(column_name) like '%birth_date%'
        or lower(column_name) like '%birthdate%'

)

select * from pii_columns
