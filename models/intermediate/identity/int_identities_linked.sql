-- noqa: disable=LT02
{{ config(materialized='table') }}

{#-
    Identity resolution: connected components of the identity graph (identities linked through shared,
    unambiguous match keys), found by min-label propagation iterated a fixed number of times
    (`identity_max_iterations`, default 8). The label is the component's anchor: its earliest-seen
    identity. `label_changed_in_last_iteration` must be false everywhere (tested): the propagation reached
    its fixed point inside the cap.
-#}

{%- set iterations = number_var('identity_max_iterations', 8) %}

with

identities as (

    select * from {{ ref('int_identities_unioned') }}

),

match_keys as (

    select * from {{ ref('int_identity_match_keys') }}

),

edges as (

    select
        identity_id,
        match_key,
        match_rule
    from match_keys
    where not is_ambiguous

),

labels_0 as (

    select
        identity_id,
        anchor_sort_key as component_label
    from identities

),

{%- for i in range(1, iterations + 1) %}

key_labels_{{ i }} as (

    select
        edges.match_key,
        min(labels_{{ i - 1 }}.component_label) as component_label
    from edges
    inner join labels_{{ i - 1 }}
        on edges.identity_id = labels_{{ i - 1 }}.identity_id
    group by edges.match_key

),

-- an identity's keys include its own label, so the smallest key label is never above it; an
-- identity without edges keeps its own label. Each round reads the previous round once: Spark
-- inlines CTEs, so reading it twice would double the query plan every round.
labels_{{ i }} as (

    select
        labels_0.identity_id,
        coalesce(min(key_labels_{{ i }}.component_label), labels_0.component_label)
        as component_label
    from labels_0
    left join edges
        on labels_0.identity_id = edges.identity_id
    left join key_labels_{{ i }}
        on edges.match_key = key_labels_{{ i }}.match_key
    group by labels_0.identity_id, labels_0.component_label

),
{%- endfor %}

components as (

    select
        labels_{{ iterations }}.identity_id,
        labels_{{ iterations }}.component_label,
        labels_{{ iterations }}.component_label <> labels_{{ iterations - 1 }}.component_label
        as label_changed_in_last_iteration
    from labels_{{ iterations }}
    inner join labels_{{ iterations - 1 }}
        on labels_{{ iterations }}.identity_id = labels_{{ iterations - 1 }}.identity_id

),

-- every edge's identity is in components, so the edges alone tell how many identities share a key
-- (reading components here too would plan the whole propagation twice more on Spark)
key_sizes as (

    select
        match_key,
        count(distinct identity_id) as n_identities
    from edges
    group by match_key

),

-- the strongest rule that ties each identity to another identity of its component
rules as (

    select
        edges.identity_id,
        min(
            case edges.match_rule
                when 'crm_id' then 1
                when 'email' then 2
                when 'phone' then 3
            end
        ) as rule_rank
    from edges
    inner join key_sizes
        on edges.match_key = key_sizes.match_key
    where key_sizes.n_identities > 1
    group by edges.identity_id

),

final as (

    select
        identities.identity_id,
        -- the anchor identity's id, hashed: a surrogate that never contains PII
        md5(split_part(components.component_label, '|', 2)) as customer_key,
        identities.source_system,
        identities.source_id,
        case rules.rule_rank
            when 1 then 'crm_id'
            when 2 then 'email'
            when 3 then 'phone'
            else 'singleton'
        end as match_rule,
        components.component_label = identities.anchor_sort_key as is_anchor,
        components.label_changed_in_last_iteration,
        identities.first_seen_at
    from identities
    inner join components
        on identities.identity_id = components.identity_id
    left join rules
        on identities.identity_id = rules.identity_id

)

select * from final
