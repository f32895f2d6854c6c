"""Daily incremental runs give the same tables as a full refresh (DESIGN: scheduled runs).

Every base model in `INCREMENTAL_BASE` is incremental by load; the two deliveries of every landing table
are described in incremental_scenario.py (a short, then corrected, recent load; re-deliveries of old rows).

Each incremental base table after day 1 + an incremental day 2 must equal a full refresh on day 2's files,
row for row, and so must the staging and quarantine models read from it, and every fact incremental by
key downstream (`INCREMENTAL_FACTS`: the web sessions, the allocated order lines, the identity links,
the journey events).
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow.parquet as pq
import pytest
from incremental_scenario import (
    ANCHOR_PREFIX,
    BRIDGE_PREFIX,
    FACT_MODELS,
    INCREMENTAL_BASE,
    INCREMENTAL_FACTS,
    INCREMENTAL_MARTS,
    INCREMENTAL_PROFILES,
    MART_MODELS,
    MOVED_DEVICE_PREFIX,
    PHANTOM_ORDERS,
    PHANTOM_PREFIX,
    REDELIVERED_IN_D1,
    REDELIVERED_LATE,
    SELECT,
    STAGING_MODELS,
    STAGING_SELECT,
    make_deliveries,
    read_load,
    took_incremental_branch,
)

from insight_engine.dbt import run_dbt


@pytest.fixture(scope="module")
def deliveries(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return make_deliveries(tmp_path_factory.mktemp("incremental"))


# CTEs a model may materialize whole: an aggregate computed once and read twice, two narrow columns per row
NARROW_CTES = {"int_identities_linked": ("identity_key_fingerprints",)}  # (identity_id, a hash)


def materialized_ctes(plan: dict) -> list[tuple[str, int]]:
    """Every CTE an analysed DuckDB plan materializes: its name and the rows it holds."""
    found = []
    if (plan.get("operator_type") or plan.get("operator_name")) == "CTE" and plan.get("children"):
        name = (plan.get("extra_info") or {}).get("CTE Name", "?")
        found.append((name, int(plan["children"][0].get("operator_cardinality") or 0)))
    for child in plan.get("children", []):
        found += materialized_ctes(child)
    return found


def test_the_cte_guard_sees_a_cte_read_twice() -> None:
    with duckdb.connect() as con:
        con.execute("create table t as select range as k from range(30)")
        read_twice = "with c as (select * from t) select * from c union all select * from c"
        inlined = "with c as not materialized (select * from t) select * from c union all select * from c"
        found = {
            sql: materialized_ctes(
                json.loads(con.execute(f"explain (analyze, format json) {sql}").fetchall()[0][1])
            )
            for sql in (read_twice, inlined)
        }
    assert found[read_twice] == [("c", 30)]
    assert found[inlined] == []


def _rows(warehouse: Path, relation: str) -> pd.DataFrame:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        df = con.execute(f"select * from {relation}").df()
    return df.sort_values(list(df.columns), na_position="last").reset_index(drop=True)


# delivered as one load: nothing to supersede
SINGLE_LOAD = ("base_commerce__products", "base_survey__questions", "base_survey__surveys")


def _late_parent_orphans(warehouse: Path, day2: Path) -> dict[str, int]:
    """Lines and answers quarantined `orphan_fk` whose order or response is one of the late parents."""
    counts = {}
    with duckdb.connect(str(warehouse), read_only=True) as con:
        for child, parent, key in (
            ("base_commerce__order_lines", "commerce/orders", "order_id"),
            ("base_survey__answers", "survey/responses", "response_id"),
        ):
            (late,) = (day2 / parent).glob("*/late_parents.parquet")
            ids = [str(i).strip() for i in pq.read_table(late, columns=[key]).column(key).to_pylist()]
            (counts[child],) = con.execute(
                f"select count(*) from staging.{child} where row_reason = 'orphan_fk' and {key} in ?",
                [ids],
            ).fetchone()
    return counts


def test_incremental_runs_equal_a_full_refresh(deliveries: tuple[Path, Path], tmp_path: Path) -> None:
    day1, day2 = deliveries
    incremental = tmp_path / "incremental.duckdb"
    full = tmp_path / "full.duckdb"

    first = run_dbt(
        ["build", *STAGING_SELECT], raw_root=day1, warehouse=incremental, target_path=tmp_path / "t1"
    )
    assert first.success, first.failures
    with duckdb.connect(str(incremental), read_only=True) as con:
        (superseded_day1,) = con.execute(
            "select count(*) from staging.base_web__events where quarantine_reason = 'superseded'"
        ).fetchone()
    assert superseded_day1 >= REDELIVERED_IN_D1
    orphans_day1 = _late_parent_orphans(incremental, day2)
    sessions_day1 = _rows(incremental, "intermediate.int_web_sessions_sessionised")
    lines_day1 = _rows(incremental, "intermediate.int_order_lines_allocated")
    identities_day1 = _rows(incremental, "intermediate.int_identities_linked")
    events_day1 = _rows(incremental, "intermediate.int_journey_events_unioned")
    # a device whose person changed while its events did not (two people merged by a later identity): its
    # stored customer_key is made stale; day 2 must rebuild the device from the identities
    stale_device = sessions_day1.sort_values("started_at")["anonymous_id"].iloc[0]
    # a journey touch edited in the mart after it was built: the mart compares its new rows with the rows
    # as built (it stores no fingerprint), so day 2 must write this touch again
    stale_event = events_day1.sort_values("event_key")["event_key"].iloc[0]
    with duckdb.connect(str(incremental)) as con:
        con.execute(
            "update intermediate.int_web_sessions_sessionised set customer_key = 'stale' "
            "where anonymous_id = ?",
            [stale_device],
        )
        con.execute("update core.fct_journey_events set channel = 'stale' where event_key = ?", [stale_event])

    second = run_dbt(
        ["build", *STAGING_SELECT], raw_root=day2, warehouse=incremental, target_path=tmp_path / "t2"
    )
    assert second.success, second.failures
    manifest = json.loads((tmp_path / "t2" / "manifest.json").read_text())
    incremental_models = {
        n["name"] for n in manifest["nodes"].values() if n["config"].get("materialized") == "incremental"
    }
    covered = (
        set(INCREMENTAL_BASE) | set(INCREMENTAL_PROFILES) | set(INCREMENTAL_FACTS) | set(INCREMENTAL_MARTS)
    )
    assert incremental_models == covered, "the test must cover every incremental model"
    for name in covered:
        compiled = next((tmp_path / "t2" / "compiled").rglob(f"{name}.sql")).read_text()
        assert took_incremental_branch(compiled), f"the second run of {name} should have been incremental"

    # the facts write only what changed: their incremental SQL, run again over the tables day 2 left,
    # selects no row (no key rebuilt, no row written, no tombstone), and reads its input without copying
    # it: no CTE it materializes holds as many rows as the table (DuckDB materializes a CTE read twice;
    # these models read their input twice and declare it not materialized). Not the order lines: their
    # input is a view whose CTEs DuckDB materializes (a view does not keep `not materialized`)
    with duckdb.connect(str(incremental), read_only=True) as con:
        for name in INCREMENTAL_FACTS + INCREMENTAL_MARTS:
            compiled = next((tmp_path / "t2" / "compiled").rglob(f"{name}.sql")).read_text()
            (rewritten,) = con.execute(f"select count(*) from ({compiled})").fetchone()
            assert rewritten == 0, f"{name} would write {rewritten} rows again with nothing new"
            if name == "int_order_lines_allocated":
                continue
            relation = next(r for r in FACT_MODELS + MART_MODELS if r.endswith(f".{name}"))
            (table_rows,) = con.execute(f"select count(*) from {relation}").fetchone()
            plan = json.loads(con.execute(f"explain (analyze, format json) {compiled}").fetchall()[0][1])
            copied = {
                cte: rows
                for cte, rows in materialized_ctes(plan)
                if rows >= table_rows and cte not in NARROW_CTES.get(name, ())
            }
            assert not copied, f"{name} ({table_rows} rows) copies its input into CTEs: {copied}"

    refreshed = run_dbt(
        ["build", *STAGING_SELECT], raw_root=day2, warehouse=full, target_path=tmp_path / "t3"
    )
    assert refreshed.success, refreshed.failures

    for relation in STAGING_MODELS + FACT_MODELS + MART_MODELS:
        got, want = _rows(incremental, relation), _rows(full, relation)
        pd.testing.assert_frame_equal(got, want, obj=relation)
        # the scenario reached the table: day 2 superseded rows of loads built on day 1
        name = relation.split(".")[1]
        if name in INCREMENTAL_BASE and name not in SINGLE_LOAD:
            assert (want["quarantine_reason"] == "superseded").any(), relation

    # parents that arrived weeks after their children: the children's loads were rewritten (rule 5)
    assert all(n > 0 for n in orphans_day1.values()), orphans_day1
    assert _late_parent_orphans(full, day2) == dict.fromkeys(orphans_day1, 0)

    # day 2 rebuilt some devices and kept others; the corrected device's sessions moved to its new id
    sessions = _rows(full, "intermediate.int_web_sessions_sessionised")
    kept = sessions_day1.merge(sessions, how="outer", on=list(sessions.columns), indicator=True)["_merge"]
    assert (kept == "both").any() and (kept != "both").any(), "day 2 should change some sessions, not all"
    moved = sessions[sessions["anonymous_id"].str.startswith(MOVED_DEVICE_PREFIX)]
    assert len(moved) > 0
    original = moved["anonymous_id"].iloc[0].removeprefix(MOVED_DEVICE_PREFIX)
    assert (sessions_day1["anonymous_id"] == original).sum() == len(moved)
    assert not (sessions["anonymous_id"] == original).any()

    # order lines: day 2 rebuilt some orders (late lines, late parents, re-deliveries) and kept the rest;
    # the orders sent by mistake on day 1 vanished with their lines
    lines = _rows(full, "intermediate.int_order_lines_allocated")
    kept = lines_day1.merge(lines, how="outer", on=list(lines.columns), indicator=True)["_merge"]
    assert (kept == "both").any() and (kept != "both").any(), "day 2 should change some order lines, not all"
    phantoms = lines_day1[lines_day1["order_id"].str.startswith(PHANTOM_PREFIX)]
    assert phantoms["order_id"].nunique() == PHANTOM_ORDERS
    assert not lines["order_id"].str.startswith(PHANTOM_PREFIX).any()

    # journey events: day 2 wrote some events and kept the rest; the phantom orders' events and the
    # moved device's old sessions vanished (their tombstones deleted, none left in the table)
    events = _rows(full, "intermediate.int_journey_events_unioned")
    kept = events_day1.merge(events, how="outer", on=list(events.columns), indicator=True)["_merge"]
    assert (kept == "both").any() and (kept != "both").any(), "day 2 should change some events, not all"
    phantom_events = events_day1["event_source"].isin(["order", "delivery"]) & events_day1[
        "source_id"
    ].str.startswith(PHANTOM_PREFIX)
    assert phantom_events.sum() >= PHANTOM_ORDERS
    assert not events["source_id"].str.startswith(PHANTOM_PREFIX).any()
    old_sessions = set(sessions_day1.loc[sessions_day1["anonymous_id"] == original, "session_id"])
    assert old_sessions and old_sessions <= set(events_day1["source_id"])
    assert not old_sessions & set(events.loc[events["event_source"] == "web_session", "source_id"])
    journey = _rows(full, "core.fct_journey_events")
    assert set(journey["event_key"]) == set(events["event_key"])
    assert (journey["channel"] != "stale").all()

    # identities: day 2 re-labelled some components (new identities, merges) and kept the rest as they were
    identities = _rows(full, "intermediate.int_identities_linked")
    columns = list(identities.columns)
    kept = identities_day1.merge(identities, how="outer", on=columns, indicator=True)["_merge"]
    assert (kept == "both").any() and (kept != "both").any(), "day 2 should change some identities, not all"
    # the bridging invitation merged two people: every identity of the younger one took the older one's key
    bridges = identities[identities["source_id"].str.startswith(BRIDGE_PREFIX)]
    assert len(bridges) == 1
    merged = identities[identities["customer_key"] == bridges["customer_key"].iloc[0]]
    both = identities_day1.merge(merged, on="identity_id", suffixes=("_1", "_2"))
    assert both["customer_key_1"].nunique() == 2, "the bridge should join two components of day 1"
    assert (both["customer_key_1"] != both["customer_key_2"]).sum() >= 2
    # the anchor that left its component on day 2: the rest of the component took another key
    (anchor_id,) = identities_day1.loc[
        identities_day1["source_id"].str.startswith(ANCHOR_PREFIX)
        & identities_day1["source_id"].str.endswith("-a"),
        "identity_id",
    ]
    day1_keys = identities_day1.set_index("identity_id")["customer_key"]
    day2_keys = identities.set_index("identity_id")["customer_key"]
    left = day1_keys[(day1_keys == day1_keys[anchor_id]) & (day1_keys.index != anchor_id)].index
    assert len(left) > 0 and identities_day1.set_index("identity_id").loc[anchor_id, "is_anchor"]
    assert not (day2_keys[left] == day1_keys[anchor_id]).any()
    assert day2_keys[anchor_id] != day2_keys[left].iloc[0]

    base = _rows(full, "staging.base_web__events")
    # the late re-deliveries superseded their first deliveries; the D1 re-deliveries left no trace
    assert (base["quarantine_reason"] == "superseded").sum() >= REDELIVERED_LATE
    raw_rows = sum(read_load(folder).num_rows for folder in (day2 / "web" / "events").glob("load_date=*"))
    assert len(base) == raw_rows


def test_a_run_without_new_loads_changes_nothing(deliveries: tuple[Path, Path], tmp_path: Path) -> None:
    _, day2 = deliveries
    warehouse = tmp_path / "wh.duckdb"
    for i in range(2):
        res = run_dbt(["build", *SELECT], raw_root=day2, warehouse=warehouse, target_path=tmp_path / f"t{i}")
        assert res.success, res.failures
        if i == 0:
            before = _rows(warehouse, "staging.base_web__events")
    pd.testing.assert_frame_equal(_rows(warehouse, "staging.base_web__events"), before)
