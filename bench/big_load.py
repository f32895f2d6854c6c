"""Benchmark: one load of ten million web events (issue 15, item 4): the whole scheduled job stays within
a memory bound and keeps every row (raw = clean + quarantined).

A small xs landing zone is generated, then one more load folder of ``--rows`` web events is written with
pyarrow (vectorised: ids, anonymous visitors, timestamps on the day before the load, event types, pages,
devices; 0.1% of rows with a blank event id, which the warehouse quarantines). The scheduled job
(`insight-engine run --full-refresh`) runs in a child process; its peak resident memory (the process
tree's RSS summed, bench/_common.py) and each stage's seconds are printed, with DuckDB's ``memory_limit``
(``DUCKDB_MEMORY_LIMIT``, 4GB here).
The raw gate stops such a load (a volume 100,000 times the day before's); the job is then run again with
``--skip-gates``, as an operator who accepts the volume would, to measure `dbt build` over it.

    .venv/bin/python bench/big_load.py                   # 10,000,000 rows
    .venv/bin/python bench/big_load.py --rows 1000000
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from _common import events, measure

from insight_engine.generate import generate

EVENT_TYPES = np.array(["page_view", "product_view", "add_to_cart", "checkout_start", "search"])
PAGES = np.array(["/", "/search", "/product/1", "/cart", "/checkout", "/help"])
DEVICES = np.array(["desktop", "mobile_web", "ios_app", "android_app"])


def big_load(raw: Path, rows: int, seed: int = 15) -> tuple[str, int]:
    """Write one load of ``rows`` web events after the zone's newest load; returns (load date, blank ids)."""
    events = raw / "web" / "events"
    schema = pq.read_schema(next(events.glob("load_date=*/*.parquet")))
    newest = max(date.fromisoformat(p.name.split("=", 1)[1]) for p in events.glob("load_date=*"))
    day = newest + timedelta(days=1)
    rng = np.random.default_rng(seed)
    folder = events / f"load_date={day}"
    folder.mkdir()
    blank_total, chunk = 0, 1_000_000
    for part, start in enumerate(range(0, rows, chunk)):
        n = min(chunk, rows - start)
        idx = np.arange(start, start + n)
        ids = np.char.add("BIG-", idx.astype(str)).astype(object)
        blank = rng.random(n) < 0.001
        ids[blank] = ""
        blank_total += int(blank.sum())
        seconds = rng.integers(0, 86_400, n)
        base = np.datetime64(
            datetime.combine(day - timedelta(days=1), datetime.min.time()), "s"
        )  # the day before
        occurred = np.datetime_as_string(base + seconds.astype("timedelta64[s]"), unit="s")
        columns = {
            "event_id": ids,
            "anonymous_id": np.char.add("anon-big-", (idx % 400_000).astype(str)).astype(object),
            "user_email": np.full(n, None, dtype=object),
            "occurred_at": np.char.add(occurred.astype(str), "Z").astype(object),
            "event_type": EVENT_TYPES[rng.integers(0, len(EVENT_TYPES), n)].astype(object),
            "page_path": PAGES[rng.integers(0, len(PAGES), n)].astype(object),
            "device": DEVICES[rng.integers(0, len(DEVICES), n)].astype(object),
            "utm_source": np.full(n, None, dtype=object),
            "order_id": np.full(n, None, dtype=object),
            "_loaded_at": np.full(
                n, np.datetime64(datetime.combine(day, datetime.min.time()) + timedelta(hours=3))
            ),
        }
        arrays = [pa.array(columns[f.name], type=f.type) for f in schema]
        pq.write_table(pa.Table.from_arrays(arrays, schema=schema), folder / f"part-{part}.parquet")
        print(f"  wrote {start + n:,} / {rows:,} rows", flush=True)
    return str(day), blank_total


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--memory-limit", default=os.environ.get("DUCKDB_MEMORY_LIMIT", "4GB"))
    parser.add_argument("--work", type=Path, default=None, help="folder to keep (default: a temp folder)")
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="big_load."))
    raw = work / "raw"
    print(f"==> xs landing zone in {raw}", flush=True)
    generate(raw, scale="xs", seed=15, days=30)
    t = time.perf_counter()
    day, blank = big_load(raw, args.rows)
    print(
        f"==> one load of {args.rows:,} web events ({day}) written in {time.perf_counter() - t:.1f}s",
        flush=True,
    )

    env = {**os.environ, "TZ": "UTC", "DUCKDB_MEMORY_LIMIT": args.memory_limit}

    def job(*extra: str) -> tuple[int, float, float, dict, str]:
        """The job in a child process: (exit code, wall seconds, peak RSS GB of its process tree, stage
        seconds, log)."""
        cmd = [sys.executable, "-m", "insight_engine.cli", "run", "--full-refresh", "--raw-root", str(raw)]
        cmd += ["--warehouse-dir", str(work / "warehouse"), "--gates-dir", str(work / "gates")]
        cmd += ["--target-path", str(work / "target"), "--log-format", "json", *extra]
        m = measure(cmd, env=env)
        stages = {
            e["stage"]: e.get("seconds") for e in events(m.stdout) if e.get("event") == "stage_finished"
        }
        return m.returncode, m.wall_s, m.peak_rss_gb, stages, m.stdout

    print(f"==> insight-engine run --full-refresh (DuckDB memory_limit {args.memory_limit})", flush=True)
    rc, wall, peak, stages, out = job()
    volume = [
        json.loads(line)
        for line in out.splitlines()
        if line.startswith("{") and '"stage_finished"' in line and "within_ratio_of_previous_load" in line
    ]
    print(f"exit code {rc}; wall {wall:.0f}s; stages {stages}; peak RSS {peak:.2f} GB")
    if rc == 3 and volume:
        print("   the raw gate stops the load, as it should: " + volume[-1]["failed"][0])
    print(
        "==> the same with --skip-gates (an operator who accepts the volume): dbt build over the load",
        flush=True,
    )
    rc, wall, peak, stages, out = job("--skip-gates")
    print(f"exit code {rc}; wall {wall:.0f}s; stages {stages}; peak RSS {peak:.2f} GB")
    if rc != 0:
        print(out[-3000:])
        raise SystemExit(1)
    with duckdb.connect(str(work / "warehouse" / "insight_engine.duckdb"), read_only=True) as con:
        clean, quarantined = con.execute(
            "select count(*) filter (where quarantine_reason is null), "
            "count(*) filter (where quarantine_reason is not null) "
            f"from staging.base_web__events where load_date = '{day}'"
        ).fetchone()
    print(
        f"load {day}: raw {args.rows:,} = clean {clean:,} + quarantined {quarantined:,} "
        f"({'holds' if clean + quarantined == args.rows else 'BROKEN'}); planted blank ids {blank:,}"
    )


if __name__ == "__main__":
    main()
