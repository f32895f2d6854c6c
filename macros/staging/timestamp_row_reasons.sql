{#-
    The quarantine rule for a row's timestamps, as `when ... then '<reason>'` branches of a base
    model's `row_reason` case (the model puts its id check before them and its own checks after):

    * `missing_timestamp`: the row's defining time (`event_at`) is absent;
    * `unparseable_timestamp`: it, or any of `optional` that is present, does not parse;
    * `future_timestamp`: it, or any of `not_after_load`, is later than the load that delivered the row;
    * `implausible_timestamp`: it, or any of `optional`, is before var `calendar_start` (1999-01-01):
      a response or an order in 1900 is a default or a typo, and would fall outside dim_date;
    * `uncastable_value`: another column holds a value that cannot be read as its contract type.

    Every column `c` comes in two forms from the model's `renamed` CTE: `c_raw` (the trimmed text)
    and `c` (parsed to UTC).
-#}
{% macro timestamp_row_reasons(event_at, optional=[], not_after_load=[]) -%}
    when renamed.{{ event_at }}_raw is null then 'missing_timestamp'
            when renamed.{{ event_at }} is null
                {%- for column in optional %}
                or (renamed.{{ column }}_raw is not null and renamed.{{ column }} is null)
                {%- endfor %}
                then 'unparseable_timestamp'
            when renamed.{{ event_at }} > renamed._loaded_at
                {%- for column in not_after_load %}
                or renamed.{{ column }} > renamed._loaded_at
                {%- endfor %}
                then 'future_timestamp'
            when renamed.{{ event_at }} < {{ calendar_start_timestamp() }}
                {%- for column in optional %}
                or renamed.{{ column }} < {{ calendar_start_timestamp() }}
                {%- endfor %}
                then 'implausible_timestamp'
            {{ uncastable_row_reason() }}
{%- endmacro %}

{#- var calendar_start (dim_date and the ECB rates start there) as a timestamp literal; a value that is not
    YYYY-MM-DD stops the build before any SQL runs (_load_date_var). -#}
{% macro calendar_start_timestamp() -%}
    cast('{{ _load_date_var("calendar_start") }}' as timestamp)
{%- endmacro %}

{#- A value the export wrote that cannot be read as its contract type (read_source names the columns). -#}
{% macro uncastable_row_reason() -%}
    when renamed._uncastable_columns is not null then 'uncastable_value'
{%- endmacro %}
