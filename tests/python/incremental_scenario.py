"""Two daily deliveries of every landing table for the incremental tests (DuckDB and Spark).

D1 is web events' 41st load date; every table is cut at the same date:

* day 1 delivers each table's loads up to D1. Its load D1 (where the table has one) lacks 10 of its rows
  and carries 3 rows re-delivering rows of the table's 11th-13th loads (so those older rows become
  `superseded`);
* day 2 delivers everything: D1 again as it really is (the 10 rows back, the 3 re-deliveries gone, so the
  older rows are current again), the loads after D1, and on each table's last load 15 re-deliveries of
  rows first delivered weeks earlier, in its 6th-10th loads (older loads whose rows must now turn
  `superseded`).

* a device corrected: every event of one device seen only before D1 is re-delivered on day 2, in the
  last load, under another anonymous_id (the device's sessions must vanish, the new device's appear);

* orders sent by mistake: day 1's D1 of orders and order lines carries 2 orders (with their lines)
  that the corrected D1 of day 2 does not have (ids `phantom-<id>`): they must vanish downstream;

* parents delivered weeks after their children: 5 orders and 5 survey responses of each table's 16th load
  are missing from it on both days and arrive on day 2 in the last load, so the lines and answers of the
  16th load stop being `orphan_fk` though their own load never changes.

A table with fewer than 13 loads before D1 re-delivers rows of its first four loads instead; one with a
single load (products, questions, surveys) is delivered whole on both days.
"""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from insight_engine.generate import generate

SELECT = ["--select", "base_web__events stg_web__events qrn_web__events"]
MODELS = ("staging.base_web__events", "staging.stg_web__events", "quarantine.qrn_web__events")

# the base models that are incremental by load: all of them
INCREMENTAL_BASE = (
    "base_commerce__customers",
    "base_commerce__order_lines",
    "base_commerce__orders",
    "base_commerce__products",
    "base_commerce__refunds",
    "base_crm__cases",
    "base_crm__customers",
    "base_crm__interactions",
    "base_survey__answers",
    "base_survey__invitations",
    "base_survey__questions",
    "base_survey__responses",
    "base_survey__surveys",
    "base_web__events",
)
# every base, staging and quarantine model of the four sources, and what they read (seeds)
# incremental by load too, outside the base models: one row per table x column x load
INCREMENTAL_PROFILES = ("stg_landing__column_fill_rates",)
# incremental by key downstream of staging (macros/utils/incremental_by_key.sql)
INCREMENTAL_FACTS = (
    "int_web_sessions_sessionised",
    "int_order_lines_allocated",
    "int_identities_linked",
    "int_journey_events_unioned",
)
# marts incremental by row on DuckDB only (tables on Spark: their contract has no rebuild_bucket)
INCREMENTAL_MARTS = ("fct_journey_events", "fct_order_lines")
STAGING_SELECT = [
    "--select",
    "+staging.commerce +staging.crm +staging.survey +staging.web +quarantine staging.landing "
    + " ".join(f"+{name}" for name in INCREMENTAL_FACTS + INCREMENTAL_MARTS),
    "--indirect-selection",
    "cautious",  # no tests of the other marts that read them
]
STAGING_MODELS = tuple(
    f"{schema}.{prefix}{name.removeprefix('base_')}"
    for name in INCREMENTAL_BASE
    for schema, prefix in (("staging", "base_"), ("staging", "stg_"), ("quarantine", "qrn_"))
) + tuple(f"staging.{name}" for name in INCREMENTAL_PROFILES)
FACT_MODELS = tuple(f"intermediate.{name}" for name in INCREMENTAL_FACTS)
MART_MODELS = tuple(f"core.{name}" for name in INCREMENTAL_MARTS)
# a CTE only the incremental branch of a model renders: by load, by key (or Spark's by-row), by row (DuckDB)
INCREMENTAL_BRANCH_CTES = ("rewritten_loads", "rebuilt_keys", "built_rows")


def took_incremental_branch(compiled_sql: str) -> bool:
    """Whether a model's compiled SQL is its incremental branch."""
    return any(f"{cte} as (" in compiled_sql for cte in INCREMENTAL_BRANCH_CTES)


MOVED_DEVICE_PREFIX = "moved-"
BRIDGE_PREFIX = "bridge-"
ANCHOR_PREFIX = "anchor-"
PHANTOM_PREFIX = "phantom-"
PHANTOM_ORDERS = 2
DAYS = 60
D1_INDEX = 40  # day 1 delivers the first 41 loads
REDELIVERED_LATE = 15
REDELIVERED_IN_D1 = 3
MISSING_IN_D1 = 10
LATE_PARENTS = ("commerce/orders", "survey/responses")
LATE_PARENT_ROWS = 5
LATE_PARENT_INDEX = 15


def _loads(events: Path) -> list[str]:
    return sorted(p.name.split("=", 1)[1] for p in events.glob("load_date=*"))


def read_load(folder: Path) -> pa.Table:
    """Every file of one load folder (no partition column)."""
    return pq.read_table(sorted(folder.glob("*.parquet")), partitioning=None)


def _copy_loads(table: Path, to: Path, loads: list[str]) -> None:
    to.mkdir(parents=True)
    for load in loads:
        shutil.copytree(table / f"load_date={load}", to / f"load_date={load}")


def _redeliver(rows: pa.Table, schema: pa.Schema, loaded_at: pd.Timestamp | None, to: Path) -> None:
    """Rows again, later (`loaded_at`, else an hour after their first delivery), in `schema`."""
    df = rows.to_pandas()
    df["_loaded_at"] = loaded_at if loaded_at is not None else df["_loaded_at"] + timedelta(hours=1)
    # written in the landing files' own schema (microsecond timestamps: Spark refuses nanoseconds)
    pq.write_table(pa.Table.from_pandas(df, preserve_index=False).cast(schema), to)


def _withhold_parents(table: Path, load: str, day2: Path, last: str) -> None:
    """Take rows out of `load` (in the generated zone, so both days lack them) and deliver them on day 2 in
    the `last` load, at its time."""
    rows = read_load(table / f"load_date={load}")
    for f in (table / f"load_date={load}").glob("*.parquet"):
        f.unlink()
    pq.write_table(rows.slice(LATE_PARENT_ROWS), table / f"load_date={load}" / "part-0.parquet")
    shutil.rmtree(day2 / f"load_date={load}")
    shutil.copytree(table / f"load_date={load}", day2 / f"load_date={load}")
    loaded_at = pd.Timestamp(read_load(table / f"load_date={last}").column("_loaded_at")[0].as_py())
    _redeliver(
        rows.slice(0, LATE_PARENT_ROWS),
        rows.schema,
        loaded_at,
        day2 / f"load_date={last}" / "late_parents.parquet",
    )


def _move_device(table: Path, before: list[str], day2: Path, last: str) -> None:
    """Re-deliver, in the `last` load, every event of the first device (by id) with 3+ events seen only in
    the loads `before[13:]` (untouched by the other re-deliveries), under the anonymous_id `moved-<id>`."""
    loads = sorted(p.name.split("=", 1)[1] for p in table.glob("load_date=*"))
    old = pa.concat_tables([read_load(table / f"load_date={load}") for load in before[13:]]).to_pandas()
    others = [load for load in loads if load not in before[13:]]
    seen_elsewhere = set(
        pa.concat_tables([read_load(table / f"load_date={load}") for load in others])
        .column("anonymous_id")
        .to_pylist()
    )
    counts = old["anonymous_id"].dropna().value_counts()
    device = min(d for d, n in counts.items() if n >= 3 and d not in seen_elsewhere and d.strip() == d)
    rows = old[old["anonymous_id"] == device].copy()
    rows["anonymous_id"] = MOVED_DEVICE_PREFIX + device
    last_rows = read_load(table / f"load_date={last}")
    loaded_at = pd.Timestamp(last_rows.column("_loaded_at")[0].as_py())
    moved = pa.Table.from_pandas(rows, preserve_index=False)
    _redeliver(moved, last_rows.schema, loaded_at, day2 / f"load_date={last}" / "moved.parquet")


def _relink_identities(table: Path, before: list[str], day2: Path, last: str) -> None:
    """Day 2's `last` load of survey invitations changes who is who, with rows of the loads `before[13:]`
    (untouched by the other re-deliveries): a new invitation `bridge-<id>` carries one person's CRM id and
    another person's e-mail (their two components merge), and an invitation of a third person is
    re-delivered under a fresh e-mail and without CRM id (it leaves its component; its phone, now seen
    with two e-mails, becomes ambiguous). And a component loses its anchor: two invitations
    `anchor-<id>-a` and `-b` of a made-up person (one e-mail, no CRM id, no phone; sent in 2000, `-a` a
    day first) are delivered on both days in load `before[13]`, and `-a` is re-delivered on day 2 under
    another e-mail: `-b`, unchanged and linked to no changed identity, must take its own key."""
    df = pa.concat_tables([read_load(table / f"load_date={load}") for load in before[13:]]).to_pandas()
    clean = df[
        df["crm_customer_id"].notna()
        & df["email"].notna()
        & (df["email"].str.strip() == df["email"])
        & (df["invitation_id"].str.strip() == df["invitation_id"])
    ]
    first = clean.iloc[0]
    other = clean[
        (clean["crm_customer_id"] != first["crm_customer_id"])
        & (clean["email"].str.lower() != first["email"].lower())
    ].iloc[0]
    people = [first["crm_customer_id"], other["crm_customer_id"]]
    third = clean[~clean["crm_customer_id"].isin(people)].iloc[0]
    pair = pd.concat([clean.iloc[[0]]] * 2)
    pair["invitation_id"] = [f"{ANCHOR_PREFIX}{first['invitation_id']}-{x}" for x in "ab"]
    pair["email"] = f"pair-{first['invitation_id'].lower()}@example.com"
    pair["crm_customer_id"] = None
    pair["phone"] = None
    pair["sent_at"] = ["2000-01-01T00:00:00Z", "2000-01-02T00:00:00Z"]
    anchor_load = f"load_date={before[13]}"
    anchor_schema = read_load(table / anchor_load).schema
    for zone in (table, day2):  # the generated zone (day 1 is copied from it later) and day 2
        pq.write_table(
            pa.Table.from_pandas(pair, preserve_index=False).cast(anchor_schema),
            zone / anchor_load / "anchor.parquet",
        )
    leaving = pair.iloc[[0]].copy()
    leaving["email"] = f"left-{first['invitation_id'].lower()}@example.com"
    bridge = clean.loc[[first.name]].copy()
    bridge["invitation_id"] = BRIDGE_PREFIX + bridge["invitation_id"]
    bridge["email"] = other["email"]
    split = clean.loc[[third.name]].copy()
    split["email"] = f"split-{third['invitation_id'].lower()}@example.com"
    split["crm_customer_id"] = None
    last_rows = read_load(table / f"load_date={last}")
    loaded_at = pd.Timestamp(last_rows.column("_loaded_at")[0].as_py())
    rows = pa.Table.from_pandas(pd.concat([bridge, split, leaving]), preserve_index=False)
    _redeliver(rows, last_rows.schema, loaded_at, day2 / f"load_date={last}" / "relinked.parquet")


def make_deliveries(work: Path) -> tuple[Path, Path]:
    """(day-1 landing zone, day-2 landing zone) under `work`: every landing table."""
    generated = work / "generated"
    generate(generated, scale="xs", seed=21, days=DAYS, bad_rate=0.02)
    d1 = _loads(generated / "web" / "events")[D1_INDEX]
    for table in sorted(p for p in generated.glob("*/*") if p.is_dir()):
        name = table.relative_to(generated)
        loads = _loads(table)
        day2, day1 = work / "day2" / name, work / "day1" / name
        _copy_loads(table, day2, loads)
        before = [load for load in loads if load < d1]
        if str(name) in LATE_PARENTS:
            _withhold_parents(table, before[LATE_PARENT_INDEX], day2, loads[-1])
        if str(name) == "web/events":
            _move_device(table, before, day2, loads[-1])
        if str(name) == "survey/invitations":
            _relink_identities(table, before, day2, loads[-1])
        # rows to re-deliver: loads 5..9 late, 10..12 in D1 (a table with fewer loads: its first four)
        old, early = (before[5:10], before[10:13]) if len(before) >= 13 else (before[:2], before[2:4])
        if loads[-1] > d1 and old:
            # late re-deliveries of rows first delivered weeks earlier, in the last load's folder
            rows = pa.concat_tables([read_load(table / f"load_date={load}") for load in old])
            last = day2 / f"load_date={loads[-1]}" / "redelivered.parquet"
            _redeliver(rows.slice(0, REDELIVERED_LATE), rows.schema, None, last)
        _copy_loads(table, day1, [load for load in loads if load < d1 or (load == d1 and not early)])
        if d1 not in loads or not early:
            continue
        # D1 as first delivered: 10 rows short, plus 3 re-deliveries of rows from loads 10..12
        d1_rows = read_load(table / f"load_date={d1}")
        rows = pa.concat_tables([read_load(table / f"load_date={load}") for load in early])
        d1_folder = day1 / f"load_date={d1}"
        d1_folder.mkdir()
        pq.write_table(d1_rows.slice(MISSING_IN_D1), d1_folder / "part-0.parquet")
        loaded_at = pd.Timestamp(d1_rows.column("_loaded_at")[0].as_py())
        _redeliver(rows.slice(0, REDELIVERED_IN_D1), d1_rows.schema, loaded_at, d1_folder / "again.parquet")
    _phantom_orders(work / "day1", d1)
    return work / "day1", work / "day2"


def _phantom_orders(day1: Path, d1: str) -> None:
    """Add to day 1's D1 of orders and order lines 2 of its orders with lines, again under `phantom-<id>`."""
    orders_folder = day1 / "commerce" / "orders" / f"load_date={d1}"
    lines_folder = day1 / "commerce" / "order_lines" / f"load_date={d1}"
    orders, lines = read_load(orders_folder), read_load(lines_folder)
    with_lines = set(lines.column("order_id").to_pylist())
    ids = sorted(i for i in set(orders.column("order_id").to_pylist()) if i in with_lines and i.strip() == i)
    chosen = ids[:PHANTOM_ORDERS]
    assert len(chosen) == PHANTOM_ORDERS, f"D1 {d1} has too few orders with lines"
    for rows, folder in ((orders, orders_folder), (lines, lines_folder)):
        df = rows.to_pandas()
        df = df[df["order_id"].isin(chosen)].copy()
        df["order_id"] = PHANTOM_PREFIX + df["order_id"]
        pq.write_table(
            pa.Table.from_pandas(df, preserve_index=False).cast(rows.schema), folder / "phantom.parquet"
        )
