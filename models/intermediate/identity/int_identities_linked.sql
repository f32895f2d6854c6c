-- noqa: disable=LT02
{{ config(
    post_hook=[
        "{{ incremental_by_key_vanished('identity_id', ref('int_identities_unioned')) }}",
        "{{ incremental_rebuilt_keys_dropped() }}",
    ],
    **incremental_by_key_config('identity_id')
) }}

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

    Incremental by component: a run re-labels only the components that changed identities touch.
    Each identity's input is fingerprinted (its own columns, every match key it holds with the key's
    ambiguity, the iteration cap). The identities whose fingerprint differs, appeared or vanished are
    the changed ones; the run rebuilds (`rebuilt_keys`) every identity of the components they were in
    (a split) and of the components of every identity sharing a linking key with them (a merge). That
    set is closed under the links: an identity outside it has the same keys, with the same ambiguity,
    as when its component was labelled, and none of them is shared with a changed identity, so its
    component is the same and so is every column of its row. Propagating over the set alone therefore
    gives the labels, rules and anchors a full refresh gives (tested: tests/python/test_incremental.py,
    on DuckDB and Spark). On Spark the rebuilt keys are written to a table before the statement
    (`incremental_rebuilt_keys`): read through CTEs, Spark planned their whole chain in each of the
    rounds' 18 copies of `edges`.
-#}

{%- set iterations = number_var('identity_max_iterations', 8) %}

{%- set inputs -%}

identities as {{ cte_not_materialized() }} (

    select * from {{ ref('int_identities_unioned') }}

),

match_keys as {{ cte_not_materialized() }} (

    select * from {{ ref('int_identity_match_keys') }}

),

identity_key_fingerprints as (

    select
        identity_id,
        bit_xor(
            {{ row_fingerprint(['match_key', 'match_rule', 'is_ambiguous']) }}
        ) as keys_fingerprint
    from match_keys
    group by identity_id

),

fingerprinted as {{ cte_not_materialized() }} (

    select
        identities.identity_id,
        identities.source_system,
        identities.source_id,
        identities.anchor_sort_key,
        identities.first_seen_at,
        {{ row_fingerprint([
            'identities.identity_id', 'identities.source_system', 'identities.source_id',
            'identities.anchor_sort_key', 'identities.first_seen_at',
            'identity_key_fingerprints.keys_fingerprint', iterations
        ]) }} as input_fingerprint
    from identities
    left join identity_key_fingerprints
        on identities.identity_id = identity_key_fingerprints.identity_id

),

linking_keys as {{ cte_not_materialized() }} (

    select
        identity_id,
        match_key,
        match_rule
    from match_keys
    where not is_ambiguous

),
{%- endset %}

{#- an incremental run: the identities to rebuild (`rebuilt_keys`), see above -#}
{%- set rebuilt_keys_scope -%}

built as {{ cte_not_materialized() }} (

    select
        identity_id,
        customer_key,
        input_fingerprint
    from {{ this }}

),

changed_identities as (

    select coalesce(fingerprinted.identity_id, built.identity_id) as identity_id
    from fingerprinted
    full outer join built
        on fingerprinted.identity_id = built.identity_id
    where
        fingerprinted.identity_id is null
        or built.identity_id is null
        or fingerprinted.input_fingerprint != built.input_fingerprint

),

-- a changed identity and every identity it shares a linking key with now (a merge)
touched_identities as (

    select identity_id from changed_identities

    union

    select neighbours.identity_id
    from changed_identities
    inner join linking_keys as changed_links
        on changed_identities.identity_id = changed_links.identity_id
    inner join linking_keys as neighbours
        on changed_links.match_key = neighbours.match_key

),

touched_components as (

    select distinct built.customer_key
    from built
    inner join touched_identities
        on built.identity_id = touched_identities.identity_id

),

-- the touched identities and every identity of the components they were in (a split)
rebuilt_keys as (

    select identity_id from touched_identities

    union

    select built.identity_id
    from built
    inner join touched_components
        on built.customer_key = touched_components.customer_key

),
{%- endset %}

with

{{ inputs }}

{% if is_incremental() -%}
{{ require_input_fingerprint() }}
{{ incremental_rebuilt_keys(inputs, rebuilt_keys_scope, 'identity_id') }}
{%- endif %}

identity_numbers as (

    select
        identity_id,
        source_system,
        source_id,
        anchor_sort_key,
        first_seen_at,
        input_fingerprint,
        row_number() over (order by anchor_sort_key) as identity_number
    from fingerprinted
    {{ incremental_by_key_read('identity_id') }}

),

key_numbers as (

    select
        match_key,
        row_number() over (order by match_key) as key_number
    from linking_keys
    {{ incremental_by_key_read('identity_id') }}
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
        identity_numbers.first_seen_at,
        identity_numbers.input_fingerprint,
        {{ rebuild_bucket('identity_numbers.identity_id') }} as rebuild_bucket
    from identity_numbers
    inner join component_anchors
        on identity_numbers.identity_number = component_anchors.identity_number
    left join rules
        on identity_numbers.identity_number = rules.identity_number

)

select * from final
{{ incremental_by_key_carried('identity_id', 'rebuilt_keys', [
    'identity_id', 'customer_key', 'source_system', 'source_id', 'match_rule', 'is_anchor',
    'label_changed_in_last_iteration', 'first_seen_at', 'input_fingerprint', 'rebuild_bucket'
]) }}
