"""Benchmark: a daily incremental run of the web-event chain vs a full refresh, measured in one run (DuckDB).

The landing zone is generated once; "yesterday" is every load but the newest, "today" adds the newest.
The incremental run builds yesterday fully, then today incrementally; the full refresh builds today from
scratch. Both are timed back to back; the ratio is the figure to compare across commits.

    .venv/bin/python bench/incremental.py              # scale s
    .venv/bin/python bench/incremental.py --scale xs
"""

from __future__ import annotations

import argparse
import logging
import shutil
import tempfile
import time
from pathlib import Path

import duckdb
from _common import setup_logging

from insight_engine.dbt import run_dbt
from insight_engine.generate import generate

log = logging.getLogger("bench.incremental")
SELECT = ["--select", "base_web__events stg_web__events qrn_web__events"]


def timed_build(raw: Path, warehouse: Path, target: Path, extra: list[str]) -> float:
    t = time.perf_counter()
    res = run_dbt(["build", *SELECT, *extra], raw_root=raw, warehouse=warehouse, target_path=target)
    seconds = time.perf_counter() - t
    if not res.success:
        raise SystemExit(f"dbt build failed: {res.failures[:3]}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scale", default="s", choices=["xs", "s", "m"])
    parser.add_argument("--repeat", type=int, default=3, help="timed pairs (incremental, full); best of")
    args = parser.parse_args()
    setup_logging()

    with tempfile.TemporaryDirectory(prefix="insight-bench-incr-") as tmp:
        work = Path(tmp)
        generated = work / "generated"
        generate(generated, scale=args.scale, seed=1, bad_rate=0.02)
        events = generated / "web" / "events"
        loads = sorted(events.glob("load_date=*"))
        yesterday, today = work / "yesterday" / "web" / "events", work / "today" / "web" / "events"
        for folder in loads[:-1]:
            shutil.copytree(folder, yesterday / folder.name)
        shutil.copytree(events, today)
        with duckdb.connect() as con:
            (rows,) = con.execute(f"select count(*) from read_parquet('{events}/*/*.parquet')").fetchone()
        log.info("web events: %s rows in %s loads; today's load adds the last one", f"{rows:,}", len(loads))

        incremental, full = [], []
        for i in range(args.repeat):
            wh = work / f"incr{i}.duckdb"
            timed_build(work / "yesterday", wh, work / f"t_y{i}", ["--full-refresh"])
            incremental.append(timed_build(work / "today", wh, work / f"t_t{i}", []))
            full.append(
                timed_build(work / "today", work / f"full{i}.duckdb", work / f"t_f{i}", ["--full-refresh"])
            )
            log.info("pair %d: incremental %.1f s, full refresh %.1f s", i + 1, incremental[-1], full[-1])

    best_i, best_f = min(incremental), min(full)
    print(f"\nscale {args.scale}: {rows:,} web events in {len(loads)} daily loads")
    print(f"{'':<34}{'seconds':>10}")
    print(f"{'incremental run (one new load)':<34}{best_i:>10.2f}")
    print(f"{'full refresh':<34}{best_f:>10.2f}")
    print(f"{'full / incremental':<34}{best_f / best_i:>10.2f}")
    print(
        "(dbt build of base_web__events, stg_web__events, qrn_web__events and their tests; best of "
        f"{args.repeat}; includes dbt's own start-up, the same for both)"
    )


if __name__ == "__main__":
    main()
