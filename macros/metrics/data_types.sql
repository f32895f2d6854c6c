{#-
    The data-type taxonomy, in one place: which evidence makes each of the six kinds of customer data.
    fct_customer (data_types_present, n_data_types) and rox_data_coverage (the stage x data type grid)
    both use these macros, so a customer counts as having a data type exactly when the grid counts them.

      behavioural   web and app sessions
      transactional orders placed and deliveries
      service       support cases and CRM interactions
      attitudinal   survey responses with a valid NPS, CSAT or CES score (an unscored answer is not)
      emotional     comments (non-empty open-text answers)
      contextual    a CRM profile
-#}
{% macro data_types() -%}
    {{ return(['behavioural', 'transactional', 'service', 'attitudinal', 'emotional', 'contextual']) }}
{%- endmacro %}

{#- The data type of a journey event (fct_journey_events.event_source); survey responses are typed
    by their scores (is_attitudinal_response) and comments, not as events. -#}
{% macro event_data_type(event_source) -%}
    case
        when {{ event_source }} = 'web_session' then 'behavioural'
        when {{ event_source }} in ('order', 'delivery') then 'transactional'
        when {{ event_source }} in ('support_case', 'interaction') then 'service'
    end
{%- endmacro %}

{#- A survey response is attitudinal data when it carries at least one valid score. -#}
{% macro is_attitudinal_response(nps_score, csat_score, ces_score) -%}
    ({{ nps_score }} is not null or {{ csat_score }} is not null or {{ ces_score }} is not null)
{%- endmacro %}
