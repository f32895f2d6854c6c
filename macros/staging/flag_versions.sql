{#-
    The last step of every base model: given rows that already carry a row-level `row_reason`
    (null when the row is fine), sets `quarantine_reason` and adds the two reasons that need a window over the key:

    * `duplicate_id`: the same key delivered more than once in the same load (`_loaded_at`);
      one copy stays, the others are quarantined;
    * `superseded`: an older version of a row that a later load re-exported (not a defect; kept
      in quarantine so that raw = clean + quarantined holds row for row).

    Ties inside one load are broken by the columns in `order_by` so reruns pick the same row.
    The ranks are only given where they decide something (null otherwise): `_copy_rank` for rows without
    a row-level defect, `_version_rank` for rows that are neither defective nor a copy. A rank among rows
    already quarantined would number ties arbitrarily, and an incremental run that reads only some of a
    key's defective rows would number them differently from a full refresh.
-#}
{% macro flag_versions(relation, key_columns, order_by=none) -%}
    {%- set keys = key_columns | join(', ') -%}
    {%- set tiebreak = (order_by or key_columns) | join(', ') -%}
    (
        select
            *,
            coalesce(
                row_level_reason,
                case when _version_rank > 1 then 'superseded' end
            ) as quarantine_reason
        from (
            select
                *,
                case when row_level_reason is null then
                    row_number() over (
                        partition by {{ keys }}, row_level_reason is null
                        order by _loaded_at desc, {{ tiebreak }}
                    )
                end as _version_rank
            from (
                select
                    *,
                    coalesce(
                        row_reason,
                        case when _copy_rank > 1 then 'duplicate_id' end
                    ) as row_level_reason
                from (
                    select
                        *,
                        case when row_reason is null then
                            row_number() over (
                                partition by {{ keys }}, _loaded_at, row_reason is null
                                order by {{ tiebreak }}
                            )
                        end as _copy_rank
                    from {{ relation }}
                ) as copies
            ) as with_duplicates
        ) as versions
    )
{%- endmacro %}
