-- noqa: disable=LT02
{{ config(materialized='table') }}

{#-
    Identity resolution: connected components of the identity graph (identities linked through shared,
    unambiguous match keys), found by min-label propagation iterated a fixed number of times
    (`identity_max_iterations`, default 8). The label is the component's anchor: its earliest-seen
    identity. `label_changed_in_last_iteration` must be false everywhere (tested): the propagation reached
    its fixed point inside the cap.

    The rounds run on integers: identities numbered in anchor order (so the smallest number is the
    earliest-seen identity, as the smallest anchor_sort_key was) and match keys numbered too. Joining
    and grouping 8-byte numbers instead of 30-60-byte strings is what keeps the sixteen joins and
    aggregations of the rounds in memory at scale l (issue 13: 434 s there on strings, 61x scale m's
    for 10x the rows, spilling under the 6GB limit). Numbering is one sort of the identities; on Spark
    a row_number without a partition is one task, which a few million rows do not strain.
-#}

{%- set iterations = number_var('identity_max_iterations', 8) %}

with

identities as (

    select * from {{ ref('int_identities_unioned') }}

),

match_keys as (

    select * from {{ ref('int_identity_match_keys') }}

),

identity_numbers as (

    select
        identity_id,
        source_system,
        source_id,
        anchor_sort_key,
        first_seen_at,
        row_number() over (order by anchor_sort_key) as identity_number
    from identities

),

linking_keys as (

    select
        identity_id,
        match_key,
        match_rule
    from match_keys
    where not is_ambiguous

),

key_numbers as (

    select
        match_key,
        row_number() over (order by match_key) as key_number
    from linking_keys
    group by match_key

),

edges as (

    select
        identity_numbers.identity_number,
        key_numbers.key_number,
        linking_keys.match_rule
    from linking_keys
    inner join identity_numbers
        on linking_keys.identity_id = identity_numbers.identity_id
    inner join key_numbers
        on linking_keys.match_key = key_numbers.match_key

),

labels_0 as (

    select
        identity_number,
        identity_number as component_label
    from identity_numbers

),

{%- for i in range(1, iterations + 1) %}

key_labels_{{ i }} as (

    select
        edges.key_number,
        min(labels_{{ i - 1 }}.component_label) as component_label
    from edges
    inner join labels_{{ i - 1 }}
        on edges.identity_number = labels_{{ i - 1 }}.identity_number
    group by edges.key_number

),

-- an identity's keys include its own label, so the smallest key label is never above it; an
-- identity without edges keeps its own label. Each round reads the previous round once: Spark
-- inlines CTEs, so reading it twice would double the query plan every round.
labels_{{ i }} as (

    select
        labels_0.identity_number,
        coalesce(min(key_labels_{{ i }}.component_label), labels_0.component_label)
        as component_label
    from labels_0
    left join edges
        on labels_0.identity_number = edges.identity_number
    left join key_labels_{{ i }}
        on edges.key_number = key_labels_{{ i }}.key_number
    group by labels_0.identity_number, labels_0.component_label

),
{%- endfor %}

components as (

    select
        labels_{{ iterations }}.identity_number,
        labels_{{ iterations }}.component_label,
        labels_{{ iterations }}.component_label <> labels_{{ iterations - 1 }}.component_label
        as label_changed_in_last_iteration
    from labels_{{ iterations }}
    inner join labels_{{ iterations - 1 }}
        on labels_{{ iterations }}.identity_number = labels_{{ iterations - 1 }}.identity_number

),

-- every edge's identity is in components, so the edges alone tell how many identities share a key
-- (reading components here too would plan the whole propagation twice more on Spark)
key_sizes as (

    select
        key_number,
        count(distinct identity_number) as n_identities
    from edges
    group by key_number

),

-- the strongest rule that ties each identity to another identity of its component
rules as (

    select
        edges.identity_number,
        min(
            case edges.match_rule
                when 'crm_id' then 1
                when 'email' then 2
                when 'phone' then 3
            end
        ) as rule_rank
    from edges
    inner join key_sizes
        on edges.key_number = key_sizes.key_number
    where key_sizes.n_identities > 1
    group by edges.identity_number

),

-- each component's label is its anchor's number: back to the anchor's sort key
component_anchors as (

    select
        components.identity_number,
        components.component_label,
        components.label_changed_in_last_iteration,
        anchors.anchor_sort_key as component_anchor_sort_key
    from components
    inner join identity_numbers as anchors
        on components.component_label = anchors.identity_number

),

final as (

    select
        identity_numbers.identity_id,
        -- the anchor identity's id, hashed: a surrogate that never contains PII
        md5(split_part(component_anchors.component_anchor_sort_key, '|', 2)) as customer_key,
        identity_numbers.source_system,
        identity_numbers.source_id,
        case rules.rule_rank
            when 1 then 'crm_id'
            when 2 then 'email'
            when 3 then 'phone'
            else 'singleton'
        end as match_rule,
        component_anchors.component_label = identity_numbers.identity_number as is_anchor,
        component_anchors.label_changed_in_last_iteration,
        identity_numbers.first_seen_at
    from identity_numbers
    inner join component_anchors
        on identity_numbers.identity_number = component_anchors.identity_number
    left join rules
        on identity_numbers.identity_number = rules.identity_number

)

select * from final
