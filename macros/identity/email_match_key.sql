{#-
    The form of an e-mail used to match identities: the staging-normalised address (trimmed, lower case)
    without a plus-tag in the local part (`ayse+shop@x.com` -> `ayse@x.com`), which shops and CRMs use for
    the same mailbox.
-#}
{% macro email_match_key(email) -%}
    {{ regexp_replace_all(email, '[+][^@]*@', '@') }}
{%- endmacro %}
