{#-
    Verbatims (DESIGN.md section 4, fct_feedback_verbatims): masking PII in free text, cutting it into
    tokens for the sentiment/theme lexicon (seeds sentiment_lexicon, sentiment_negators) and labelling
    the sentiment score.

    Words are found with Unicode classes (\pL letters, \pN numbers, \pP punctuation, \pZ separators,
    \p{So} other symbols such as emoji), which RE2 (DuckDB) and java.util.regex (Spark) read alike.
    RE2's \w and \b are ASCII-only, so they would cut "kötü" or "قیمت" apart: they are never used.
    Patterns are written once, in RE2 syntax, as Jinja strings: a regex backslash is written twice
    ('\\pP' is \pP). What differs by engine goes through adapter.dispatch, DuckDB (default__) and Spark
    side by side: how a pattern is written into a SQL string literal (Spark unescapes backslashes in
    literals, DuckDB does not), the replacement's group syntax (\1 / $1), splitting text into an array,
    and exploding an array into rows with positions.
-#}

{#- The themes the lexicon can name, sorted: the order of fct_feedback_verbatims.themes. -#}
{% macro verbatim_themes() -%}
    {{ return(['checkout', 'delivery', 'price', 'product_quality', 'staff', 'support']) }}
{%- endmacro %}

{#- Split text into an array of strings at every match of an RE2-syntax `pattern`. -#}
{% macro split_to_array(expression, pattern) -%}
    {{ return(adapter.dispatch('split_to_array', 'insight_engine')(expression, pattern)) }}
{%- endmacro %}

{% macro default__split_to_array(expression, pattern) -%}
    regexp_split_to_array({{ expression }}, '{{ pattern | replace("'", "''") }}')
{%- endmacro %}

{% macro spark__split_to_array(expression, pattern) -%}
    split({{ expression }}, '{{ pattern | replace("\\", "\\\\") | replace("'", "\\'") }}')
{%- endmacro %}

{#-
    A select statement: one row per element of the array column `array_column` of `relation`, with
    the `key_columns`, the element as `value_name` and its 1-based position in the array as
    `position_name`. An empty array gives no row.
-#}
{% macro explode_with_position(relation, key_columns, array_column, value_name, position_name) -%}
    {{ return(adapter.dispatch('explode_with_position', 'insight_engine')(
        relation, key_columns, array_column, value_name, position_name
    )) }}
{%- endmacro %}

{#- DuckDB: two set-returning functions in one select list are unnested side by side. -#}
{% macro default__explode_with_position(
    relation, key_columns, array_column, value_name, position_name
) -%}
    select
        {%- for column in key_columns %}
        {{ column }},
        {%- endfor %}
        unnest({{ array_column }}) as {{ value_name }},
        generate_subscripts({{ array_column }}, 1) as {{ position_name }}
    from {{ relation }}
{%- endmacro %}

{#- Spark: posexplode numbers elements from 0. -#}
{% macro spark__explode_with_position(
    relation, key_columns, array_column, value_name, position_name
) -%}
    select
        {%- for column in key_columns %}
        {{ column }},
        {%- endfor %}
        {{ value_name }},
        exploded_position + 1 as {{ position_name }}
    from (
        select
            {%- for column in key_columns %}
            {{ column }},
            {%- endfor %}
            posexplode({{ array_column }}) as (exploded_position, {{ value_name }})
        from {{ relation }}
    ) as exploded
{%- endmacro %}

{#-
    Free text with e-mail addresses replaced by [email] and phone numbers by [phone]; everything else
    (newlines, emoji, quotes) is kept as written. A phone number is an optional `+` or `(` and at
    least 7 digits of any script (Persian and Arabic-Indic digits included) with at most two of
    space ( ) . - between consecutive digits; so an order number or an ISO date written with digits
    only may be masked too: privacy comes first. E-mails go first, so that their digits are never
    half-masked as a phone. Names written in the text are not detected.
-#}
{% macro mask_pii(text) -%}
    {%- set email_pattern = "[\\pL\\pN._%+-]+@[\\pL\\pN-]+(\\.[\\pL\\pN-]+)+" -%}
    {%- set phone_pattern = "[+(]?\\p{Nd}([\\s().-]{0,2}\\p{Nd}){6,}" -%}
    {{ regexp_replace_all(
        regexp_replace_all(text, email_pattern, '[email]'),
        phone_pattern,
        '[phone]'
    ) }}
{%- endmacro %}

{#-
    Text -> array of lower-case clauses, the scope of a negator. A clause ends at . , ; : ! ? … and
    their Persian forms ، ؛ ؟, and at a line break. The text is normalised first:
    1. Arabic yeh, kaf and alef maksura become the Persian letters (exports mix the code points).
    2. Lower case. Apostrophes are removed, so "don't" is one token "dont" and "Ali'nin" is
       "alinin"; so are the emoji variation selector (U+FE0F), the combining dot that lower-casing
       a Turkish capital I-with-dot leaves on some engines (U+0307) and Arabic-script diacritics
       (U+064B-065F, U+0670: "اصلاً" -> "اصلا").
-#}
{% macro verbatim_clauses(text) -%}
    {%- set dropped = "['\u2019\u02BC\\x{FE0F}\\x{0307}\\x{064B}-\\x{065F}\\x{0670}]" -%}
    {%- set clause_ends = "[.,;:!?\\x{2026}\\x{060C}\\x{061B}\\x{061F}\\n\\r]+" -%}
    {{ split_to_array(
        regexp_replace_all(
            "lower(translate(" ~ text ~ ", 'يكى', 'یکی'))",
            dropped,
            ''
        ),
        clause_ends
    ) }}
{%- endmacro %}

{#-
    A clause -> array of tokens (may contain empty strings at the ends; drop them).
    1. Every emoji and other symbol (\p{So}) becomes a token of its own, even when glued to a word.
    2. Split at whitespace, separators and punctuation of any script (\pZ, \pP: « », quotes,
       dashes, brackets) and at math, currency and modifier symbols (skin-tone modifiers included).
       The zero-width non-joiner (U+200C) is not a separator: Persian "قیمت‌ها" stays one token.
-#}
{% macro verbatim_tokens(clause) -%}
    {%- set separators = "[\\s\\pZ\\pP\\p{Sm}\\p{Sc}\\p{Sk}]+" -%}
    {{ split_to_array(
        regexp_replace_all(clause, "(\\p{So})", ' \\1 '),
        separators
    ) }}
{%- endmacro %}

{#-
    A token in the form the lexicon is written in for its language: Portuguese is matched without
    accents (the LeIA lexicon behind it is written without them, and exports mix "péssimo" and
    "pessimo"), every other language as the tokeniser wrote it. The letter pairs are those of
    insight_engine/lexicon.py (ACCENTED / UNACCENTED); translate() is the same on DuckDB and Spark.
-#}
{% macro lexicon_form(token, language_code) -%}
    case
        when {{ language_code }} = 'pt'
            then translate({{ token }}, 'áàâãäéèêëíìîïóòôõöúùûüç', 'aaaaaeeeeiiiiooooouuuuc')
        else {{ token }}
    end
{%- endmacro %}

{#- negative | neutral | positive: thresholds are vars; a comment without sentiment terms scores 0. -#}
{% macro sentiment_label(score) -%}
    case
        when {{ score }} >= {{ number_var('sentiment_positive_min', 0.2) }} then 'positive'
        when {{ score }} <= {{ number_var('sentiment_negative_max', -0.2) }} then 'negative'
        else 'neutral'
    end
{%- endmacro %}
