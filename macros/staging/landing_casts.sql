{#-
    How a landing column becomes its contract type, whatever compatible type the export wrote it in.
    The raw gate applies the same rules (insight_engine/contract.py: cast_sql, timestamp_utc_sql);
    tests/python/test_landing_casts.py runs these macros over the raw gate's table of cases
    (tests/python/test_gate_casting.py).

    | contract   | accepted in the file                                  | cast                                   |
    |------------|-------------------------------------------------------|----------------------------------------|
    | string     | any scalar                                            | text; integral floats without `.0`     |
    | bigint     | integers, integral floats/decimals, integer text      | bigint                                 |
    | double     | any finite number, numeric text; abs below 1e15       | double                                 |
    | boolean    | boolean, 0/1, true/false/t/f/yes/no/y/n/1/0 text      | boolean                                |
    | timestamp  | TIMESTAMP (wall clock), TIMESTAMPTZ, DATE, ISO text   | UTC timestamp (parse_timestamp_utc)    |
    | date       | DATE, TIMESTAMP, `YYYY-MM-DD` text                    | date                                   |

    A present value that does not cast is null, and `landing_value_failed` is true for it.
-#}

{#- The contract's logical families (contract data_type). -#}
{% macro type_family(data_type) -%}
    {%- set t = data_type | lower -%}
    {%- if t.startswith('varchar') or t.startswith('string') or t == 'text' -%}{{ return('string') }}
    {%- elif t in ('bigint', 'integer', 'int') -%}{{ return('integer') }}
    {%- elif t in ('double', 'float') or t.startswith('decimal') -%}{{ return('number') }}
    {%- elif t in ('boolean', 'bool') -%}{{ return('boolean') }}
    {%- elif t.startswith('timestamp') -%}{{ return('timestamp') }}
    {%- elif t == 'date' -%}{{ return('date') }}
    {%- else -%}{{ return(t) }}
    {%- endif -%}
{%- endmacro %}

{#- The SQL type a contract column is read as. -#}
{% macro landing_type(data_type) -%}
    {%- set family = type_family(data_type) -%}
    {%- if family == 'string' -%}{{ return(dbt.type_string()) }}
    {%- elif family == 'timestamp' -%}{{ return('timestamp') }}
    {%- else -%}{{ return(data_type) }}
    {%- endif -%}
{%- endmacro %}

{#-
    The family of the type a file carries a column in (DuckDB and Spark names): string, integer, number,
    boolean, timestamptz (an instant), timestamp (a wall clock), date, null (an all-null column), or the
    type itself (BLOB, LIST, STRUCT ...: not castable).
-#}
{% macro native_family(native_type) -%}
    {%- set t = native_type | lower | trim -%}
    {%- if t.startswith('varchar') or t.startswith('string') or t.startswith('char') or t == 'text' -%}
        {{ return('string') }}
    {%- elif t in ('timestamp with time zone', 'timestamptz')
        or (t == 'timestamp' and target.type == 'spark') -%}{{ return('timestamptz') }}
    {%- elif t.startswith('timestamp') -%}{{ return('timestamp') }}
    {%- elif t == 'date' -%}{{ return('date') }}
    {%- elif t in ('bigint', 'integer', 'int', 'smallint', 'tinyint', 'hugeint', 'ubigint', 'uinteger',
                   'usmallint', 'utinyint', 'uhugeint', 'long', 'short', 'byte') -%}{{ return('integer') }}
    {%- elif t in ('double', 'float', 'real') or t.startswith('decimal') or t.startswith('numeric') -%}
        {{ return('number') }}
    {%- elif t in ('boolean', 'bool') -%}{{ return('boolean') }}
    {%- elif t in ('null', '"null"', 'void') -%}{{ return('null') }}
    {%- else -%}{{ return(t) }}
    {%- endif -%}
{%- endmacro %}

{% macro landing_type_compatible(data_type, native_type) -%}
    {%- set want = type_family(data_type) -%}
    {%- set got = native_family(native_type) -%}
    {%- set scalar = ['string', 'integer', 'number', 'boolean', 'timestamptz', 'timestamp', 'date', 'null'] -%}
    {%- set accepted = {
        'string': scalar,
        'integer': ['integer', 'number', 'string', 'boolean', 'null'],
        'number': ['integer', 'number', 'string', 'null'],
        'boolean': ['boolean', 'integer', 'string', 'null'],
        'timestamp': ['timestamptz', 'timestamp', 'date', 'string', 'null'],
        'date': ['timestamptz', 'timestamp', 'date', 'string', 'null'],
    } -%}
    {{ return(got in accepted.get(want, [])) }}
{%- endmacro %}

{#- `expression` (a column of native type `native_type`) as contract type `data_type`; null if it cannot be cast. -#}
{% macro landing_value(expression, native_type, data_type, zone) -%}
    {%- set want = type_family(data_type) -%}
    {%- set got = native_family(native_type) -%}
    {%- set text = 'trim(' ~ expression ~ ')' -%}
    {%- if got == 'null' -%}
        cast(null as {{ landing_type(data_type) }})
    {%- elif want == 'timestamp' -%}
        {{ parse_timestamp_utc(expression, zone, got) }}
    {%- elif want == 'string' -%}
        {%- if got == 'string' -%}{{ expression }}
        {%- elif got == 'number' -%}
        case
            when {{ expression }} = floor({{ expression }})
                then cast(try_cast({{ expression }} as bigint) as {{ dbt.type_string() }})
            else cast({{ expression }} as {{ dbt.type_string() }})
        end
        {%- else -%}cast({{ expression }} as {{ dbt.type_string() }})
        {%- endif -%}
    {%- elif want == 'integer' -%}
        {%- if got == 'integer' -%}cast({{ expression }} as {{ data_type }})
        {%- elif got == 'number' -%}
        case when {{ expression }} = floor({{ expression }}) then try_cast({{ expression }} as {{ data_type }}) end
        {%- elif got == 'boolean' -%}case when {{ expression }} then 1 when not {{ expression }} then 0 end
        {%- else -%}
        {#- only integer text casts to an integer (DuckDB's cast would round '12.5' to 13); other numeric
            text must be integral ('12.0') -#}
        case
            when {{ text_matches(text, '^[+-]?[0-9]+$') }} then try_cast({{ text }} as {{ data_type }})
            when try_cast({{ text }} as double) = floor(try_cast({{ text }} as double))
                then try_cast(try_cast({{ text }} as double) as {{ data_type }})
        end
        {%- endif -%}
    {%- elif want == 'number' -%}
        {#- finite and below 1e15 in magnitude (contract.MAX_NUMBER): NaN, infinities and 1e30 would stop
            the build where staging casts amounts to decimal(18, 2); NaN compares above every number -#}
        {%- if got in ('integer', 'number') -%}{%- set value = 'cast(' ~ expression ~ ' as ' ~ data_type ~ ')' -%}
        {%- else -%}{%- set value = 'try_cast(' ~ text ~ ' as ' ~ data_type ~ ')' -%}
        {%- endif -%}
        case when abs({{ value }}) < 1e15 then {{ value }} end
    {%- elif want == 'boolean' -%}
        {%- if got == 'boolean' -%}{{ expression }}
        {%- elif got == 'integer' -%}
        case when {{ expression }} = 1 then true when {{ expression }} = 0 then false end
        {%- else -%}
        case
            when lower({{ text }}) in ('true', 't', '1', 'yes', 'y') then true
            when lower({{ text }}) in ('false', 'f', '0', 'no', 'n') then false
        end
        {%- endif -%}
    {%- elif want == 'date' -%}
        {%- if got == 'date' -%}{{ expression }}
        {%- elif got in ('timestamp', 'timestamptz') -%}cast({{ expression }} as date)
        {%- else -%}
        coalesce(try_cast({{ text }} as date), cast(try_cast({{ text }} as timestamp) as date))
        {%- endif -%}
    {%- else -%}
        {{ exceptions.raise_compiler_error("landing_value: no cast rule for contract type " ~ data_type) }}
    {%- endif -%}
{%- endmacro %}

{#- Whole-string regular-expression match, on every engine. -#}
{% macro text_matches(expression, pattern) -%}
    {{ return(adapter.dispatch('text_matches', 'insight_engine')(expression, pattern)) }}
{%- endmacro %}

{% macro default__text_matches(expression, pattern) -%}
    regexp_full_match({{ expression }}, '{{ pattern }}')
{%- endmacro %}

{% macro spark__text_matches(expression, pattern) -%}
    ({{ expression }} rlike '{{ pattern }}')
{%- endmacro %}

{#- True when `expression` holds a value (text: not blank) that landing_value cannot cast. -#}
{% macro landing_value_failed(expression, native_type, data_type, zone) -%}
    {%- set got = native_family(native_type) -%}
    {%- if got == 'null' or (type_family(data_type) == 'string') -%}
        false
    {%- elif got == 'string' -%}
        ({{ clean_text(expression) }} is not null
            and {{ landing_value(expression, native_type, data_type, zone) }} is null)
    {%- else -%}
        ({{ expression }} is not null and {{ landing_value(expression, native_type, data_type, zone) }} is null)
    {%- endif -%}
{%- endmacro %}

{#-
    A timestamp as real systems write it -> timestamp in UTC (no zone); null when unparseable.
    Text: ISO-8601 with an offset (`+03:00`, `+0300`, `+03`) or `Z` is an instant; naive
    `YYYY-MM-DD[ T]HH:MM[:SS[.fraction]]` and date-only `YYYY-MM-DD` are wall-clock times in `zone`.
    Native: an instant (DuckDB TIMESTAMPTZ, Spark TIMESTAMP) is taken as it is; a wall clock (DuckDB
    TIMESTAMP, Spark TIMESTAMP_NTZ, DATE) is read in `zone`. `native` is a native_family() name.
-#}
{% macro parse_timestamp_utc(expression, zone='UTC', native='string') -%}
    {{ return(adapter.dispatch('parse_timestamp_utc', 'insight_engine')(expression, zone, native)) }}
{%- endmacro %}

{% macro timestamp_text_patterns() -%}
    {{ return({
        'offset': '^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(:[0-9]{2}([.][0-9]{1,9})?)?(Z|[+-][0-9]{2}(:?[0-9]{2})?)$',
        'naive': '^[0-9]{4}-[0-9]{2}-[0-9]{2}([T ][0-9]{2}:[0-9]{2}(:[0-9]{2}([.][0-9]{1,9})?)?)?$',
    }) }}
{%- endmacro %}

{% macro default__parse_timestamp_utc(expression, zone, native) -%}
    {%- set p = timestamp_text_patterns() -%}
    {%- if native == 'timestamptz' -%}
        timezone('UTC', {{ expression }})
    {%- elif native in ('timestamp', 'date') -%}
        timezone('UTC', timezone('{{ zone }}', cast({{ expression }} as timestamp)))
    {%- else -%}
        {%- set text = clean_text(expression) -%}
        case
            when regexp_matches({{ text }}, '{{ p.offset }}')
                then timezone('UTC', try_cast({{ text }} as timestamptz))
            when regexp_matches({{ text }}, '{{ p.naive }}')
                then timezone('UTC', timezone('{{ zone }}', try_cast({{ text }} as timestamp)))
        end
    {%- endif -%}
{%- endmacro %}

{#- Spark (session time zone UTC): offsets are normalised to `+hh:mm`, which every Spark version casts. -#}
{% macro spark__parse_timestamp_utc(expression, zone, native) -%}
    {%- set p = timestamp_text_patterns() -%}
    {%- if native == 'timestamptz' -%}
        cast({{ expression }} as timestamp)
    {%- elif native in ('timestamp', 'date') -%}
        to_utc_timestamp(cast({{ expression }} as timestamp), '{{ zone }}')
    {%- else -%}
        {%- set text = clean_text(expression) -%}
        case
            when {{ text }} rlike '{{ p.offset }}'
                then try_cast(
                    regexp_replace(
                        regexp_replace({{ text }}, '([+-][0-9]{2}):?([0-9]{2})$', '$1:$2'),
                        '([+-][0-9]{2})$', '$1:00'
                    ) as timestamp
                )
            when {{ text }} rlike '{{ p.naive }}'
                then to_utc_timestamp(try_cast({{ text }} as timestamp), '{{ zone }}')
        end
    {%- endif -%}
{%- endmacro %}

{#- When a load without `_loaded_at` counts as delivered: the end of its load day (UTC). -#}
{% macro end_of_load_day(load_date) -%}
    {{ dbt.dateadd('day', 1, 'cast(' ~ load_date ~ ' as timestamp)') }}
{%- endmacro %}

{#- ISO date text -> date; null when unparseable. -#}
{% macro parse_date(expression) -%}
    try_cast({{ expression }} as date)
{%- endmacro %}
