{#- Text as it should be read: trimmed, and an empty string is "no value" (null). -#}
{% macro clean_text(expression) -%}
    nullif(trim(cast({{ expression }} as {{ dbt.type_string() }})), '')
{%- endmacro %}

{#- E-mail as an identity key: trimmed and lower-cased; empty -> null. -#}
{% macro normalise_email(expression) -%}
    nullif(lower(trim({{ expression }})), '')
{%- endmacro %}

{#-
    Phone as E.164 (`+<country code><national number>`), the identity key for phones.
    `+90 (532) 123 45 67`, `0090532...` and, given the customer's calling code `90`, `0532 123 45 67`
    all become `+905321234567`. A national number without a known calling code stays null: we do not
    guess a country.
-#}
{% macro normalise_phone(expression, calling_code='null') -%}
    case
        when {{ regexp_replace_all(expression, '[^0-9]', '') }} = '' then null
        when trim({{ expression }}) like '+%'
            then '+' || {{ regexp_replace_all(expression, '[^0-9]', '') }}
        when {{ regexp_replace_all(expression, '[^0-9]', '') }} like '00%'
            then '+' || substr({{ regexp_replace_all(expression, '[^0-9]', '') }}, 3)
        when {{ regexp_replace_all(expression, '[^0-9]', '') }} like '0%' and {{ calling_code }} is not null
            then '+' || {{ calling_code }} || substr({{ regexp_replace_all(expression, '[^0-9]', '') }}, 2)
    end
{%- endmacro %}
