"""Idempotency and order (issue 15, item 2): loads delivered twice, out of order, and a day re-delivered with
corrections after later days. After each, the published marts (and the build warehouse, the incremental
click stream included) equal those of a clean build of the same landing zone (table checksums).

One warehouse lives through the deliveries, each run as cron runs it (no options):

1. every load but two (X, eight days before the newest, and Y, the day before the newest);
2. X arrives, after later days: older than the three-day lookback of the incremental models;
3. X's files are sent again, unchanged (a re-sent export; new mtimes);
4. Y arrives (late, inside the lookback) -> equals a clean build of every load;
5. X is re-delivered with corrections (an order's amount, an answer's score, web events removed and
   added) -> equals a clean build of the corrected landing zone.

A clean build here is `insight-engine run --full-refresh` into a new warehouse; that a chronological
series of daily runs equals it is `test_incremental.py`'s and the crash test's claim.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from warehouse_state import build_checksums, copy_zone, landing_loads, run_job, serving_checksums

from insight_engine.exitcodes import ExitCode


@dataclass
class Deliveries:
    after: dict[str, dict] = field(default_factory=dict)  # step -> serving checksums
    build_after: dict[str, dict] = field(default_factory=dict)
    events: dict[str, list[dict]] = field(default_factory=dict)  # step -> the run's JSON events
    clean_all: dict = field(default_factory=dict)
    clean_all_build: dict = field(default_factory=dict)
    clean_corrected: dict = field(default_factory=dict)
    clean_corrected_build: dict = field(default_factory=dict)
    x: str = ""
    y: str = ""


def _files(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.parquet"))


def _rewrite(path: Path, change) -> None:
    table = pq.read_table(path, partitioning=None)
    pq.write_table(change(table), path)


def _correct_load(zone: Path, load: str) -> None:
    """Corrections a source system sends for one day: values fixed, rows withdrawn, rows added."""
    orders = _files(zone / "commerce" / "orders" / f"load_date={load}")
    answers = _files(zone / "survey" / "answers" / f"load_date={load}")
    events = _files(zone / "web" / "events" / f"load_date={load}")
    assert orders and answers and events, f"load {load} lacks orders, answers or web events"

    def fix_amount(t: pa.Table) -> pa.Table:
        col = t.column("shipping_amount")
        fixed = pc.add(col, pa.scalar(1.5, col.type)) if pa.types.is_floating(col.type) else col
        return t.set_column(t.schema.get_field_index("shipping_amount"), "shipping_amount", fixed)

    def fix_score(t: pa.Table) -> pa.Table:
        col = t.column("answer_numeric")
        if not pa.types.is_floating(col.type):
            return t
        # every score of the day one lower, floored at 0: an off-by-one export fixed
        fixed = pc.max_element_wise(pc.subtract(col, pa.scalar(1.0, col.type)), pa.scalar(0.0, col.type))
        return t.set_column(t.schema.get_field_index("answer_numeric"), "answer_numeric", fixed)

    def withdraw_and_add(t: pa.Table) -> pa.Table:
        kept = t.slice(0, max(1, t.num_rows - 10))  # ten events withdrawn
        extra = t.slice(0, 3).to_pandas()
        extra["event_id"] = extra["event_id"].astype(str) + "-late"  # three events that were missing
        return pa.concat_tables([kept, pa.Table.from_pandas(extra, preserve_index=False).cast(t.schema)])

    _rewrite(orders[0], fix_amount)
    _rewrite(answers[0], fix_score)
    _rewrite(events[0], withdraw_and_add)


def _run(raw: Path, work: Path, *extra: str) -> list[dict]:
    res = run_job(raw, work, *extra)
    assert res.returncode == ExitCode.OK, (res.stdout + res.stderr)[-3000:]
    return [json.loads(line) for line in res.stdout.splitlines() if line.startswith("{")]


@pytest.fixture(scope="module")
def deliveries(xs45_raw: Path, tmp_path_factory: pytest.TempPathFactory) -> Deliveries:
    work = tmp_path_factory.mktemp("deliveries")
    loads = landing_loads(xs45_raw)
    d = Deliveries(x=loads[-9], y=loads[-2])
    zone = copy_zone(xs45_raw, work / "zone", without={d.x, d.y})
    lived = work / "lived"

    def step(name: str) -> None:
        d.events[name] = _run(zone, lived)
        d.after[name] = serving_checksums(lived / "warehouse")
        d.build_after[name] = build_checksums(lived / "warehouse")

    def deliver(load: str) -> None:
        for folder in xs45_raw.glob(f"*/*/load_date={load}"):
            target = zone / folder.relative_to(xs45_raw)
            shutil.rmtree(target, ignore_errors=True)
            shutil.copytree(folder, target)

    step("1 without X and Y")
    deliver(d.x)
    step("2 X out of order")
    deliver(d.x)
    step("3 X sent again")
    deliver(d.y)
    step("4 Y late")
    _correct_load(zone, d.x)
    step("5 X corrected")

    clean = work / "clean_all"
    _run(xs45_raw, clean, "--full-refresh")
    d.clean_all, d.clean_all_build = (
        serving_checksums(clean / "warehouse"),
        build_checksums(clean / "warehouse"),
    )
    clean = work / "clean_corrected"
    _run(zone, clean, "--full-refresh")
    d.clean_corrected = serving_checksums(clean / "warehouse")
    d.clean_corrected_build = build_checksums(clean / "warehouse")
    return d


def _differing(got: dict, want: dict) -> list[str]:
    return sorted(k for k in set(got) | set(want) if got.get(k) != want.get(k))


def test_the_deliveries_change_the_marts(deliveries: Deliveries) -> None:
    # each delivery must matter, or equality below would prove nothing
    assert deliveries.after["1 without X and Y"] != deliveries.clean_all
    assert deliveries.clean_corrected != deliveries.clean_all
    assert "staging.base_web__events" in _differing(
        deliveries.clean_corrected_build, deliveries.clean_all_build
    )


def test_a_load_sent_again_unchanged_changes_nothing(deliveries: Deliveries) -> None:
    assert deliveries.after["3 X sent again"] == deliveries.after["2 X out of order"]
    assert deliveries.build_after["3 X sent again"] == deliveries.build_after["2 X out of order"]
    events = {e["event"] for e in deliveries.events["3 X sent again"]}
    assert "loads_redelivered" not in events  # same bytes: not a correction, nothing rewritten


def test_out_of_order_and_late_loads_end_equal_to_a_clean_build(deliveries: Deliveries) -> None:
    assert _differing(deliveries.after["4 Y late"], deliveries.clean_all) == []
    assert _differing(deliveries.build_after["4 Y late"], deliveries.clean_all_build) == []


def test_a_day_corrected_after_later_days_ends_equal_to_a_clean_build(deliveries: Deliveries) -> None:
    assert _differing(deliveries.after["5 X corrected"], deliveries.clean_corrected) == []
    assert _differing(deliveries.build_after["5 X corrected"], deliveries.clean_corrected_build) == []
    said = [e for e in deliveries.events["5 X corrected"] if e["event"] == "loads_redelivered"]
    assert said and said[0]["since"] == deliveries.x, "the run should say which loads it rewrites, and why"
