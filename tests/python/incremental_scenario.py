"""Two daily deliveries of web events for the incremental tests (DuckDB and Spark).

* day 1 delivers loads up to D1. Its load D1 lacks 10 of its rows and carries 3 rows re-delivering older
  events (so those older rows become `superseded`);
* day 2 delivers everything: D1 again as it really is (the 10 rows back, the 3 re-deliveries gone, so the
  older rows are current again), the loads after D1, and on the last load 15 re-deliveries of events first
  delivered weeks earlier (older loads whose rows must now turn `superseded`).
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
DAYS = 60
D1_INDEX = 40  # day 1 delivers the first 41 loads
REDELIVERED_LATE = 15
REDELIVERED_IN_D1 = 3
MISSING_IN_D1 = 10


def _loads(events: Path) -> list[str]:
    return sorted(p.name.split("=", 1)[1] for p in events.glob("load_date=*"))


def read_load(folder: Path) -> pa.Table:
    """Every file of one load folder (no partition column)."""
    return pq.read_table(sorted(folder.glob("*.parquet")), partitioning=None)


def make_deliveries(work: Path) -> tuple[Path, Path]:
    """(day-1 landing zone, day-2 landing zone) under `work`: web events only, what SELECT reads."""
    generated = work / "generated"
    generate(generated, scale="xs", seed=21, days=DAYS, bad_rate=0.02)
    events = generated / "web" / "events"
    loads = _loads(events)
    d1, last = loads[D1_INDEX], loads[-1]

    day2 = work / "day2" / "web" / "events"
    day2.mkdir(parents=True)
    for load in loads:
        shutil.copytree(events / f"load_date={load}", day2 / f"load_date={load}")
    # late re-deliveries of events first delivered in loads 5..9, in the last load's folder
    old = pa.concat_tables([read_load(events / f"load_date={load}") for load in loads[5:10]])
    late = old.slice(0, REDELIVERED_LATE).to_pandas()
    late["_loaded_at"] = late["_loaded_at"] + timedelta(hours=1)
    last_folder = day2 / f"load_date={last}"
    # written in the landing files' own schema (microsecond timestamps: Spark refuses nanoseconds)
    pq.write_table(
        pa.Table.from_pandas(late, preserve_index=False).cast(old.schema), last_folder / "redelivered.parquet"
    )

    day1 = work / "day1" / "web" / "events"
    day1.mkdir(parents=True)
    for load in loads[:D1_INDEX]:
        shutil.copytree(events / f"load_date={load}", day1 / f"load_date={load}")
    # D1 as first delivered: 10 rows short, plus 3 re-deliveries of events from loads 10..12
    d1_rows = read_load(events / f"load_date={d1}")
    early = pa.concat_tables([read_load(events / f"load_date={load}") for load in loads[10:13]])
    again = early.slice(0, REDELIVERED_IN_D1).to_pandas()
    again["_loaded_at"] = pd.Timestamp(d1_rows.column("_loaded_at")[0].as_py())
    d1_folder = day1 / f"load_date={d1}"
    d1_folder.mkdir()
    pq.write_table(d1_rows.slice(MISSING_IN_D1), d1_folder / "part-0.parquet")
    pq.write_table(
        pa.Table.from_pandas(again, preserve_index=False).cast(d1_rows.schema), d1_folder / "again.parquet"
    )
    return work / "day1", work / "day2"
