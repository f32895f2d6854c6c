"""Benchmark: the publish of a daily run (one new load) written whole vs written from the last version
(the serving file copied and updated where rows changed, unchanged Parquet files hard-linked).

1. A landing zone is generated (or `--raw` is used); its newest load is held back and
   `insight-engine run --full-refresh` builds and publishes every other load: the "last version" (its
   serving file, Parquet versions and publish log are kept aside).
2. The newest load lands and `insight-engine run` adds it. Both runs' wall seconds per stage are printed.
3. The daily build is published alternately `--rounds` times, each time on a fresh copy of the last
   version: **whole** (`reuse=False`, what `run --full-refresh` and every publish before did) and **from the
   last version** (`reuse=True`, a daily run's default). Both must publish the same tables with the same
   rows, columns and exact checksums.

Prints each round's seconds, the ratio of the best of each, and how each table was written
(insight_engine/publish.py; DECISIONLOG.md, "A daily publish writes only what changed").
`--work DIR` keeps the builds: a second call with the same folder goes straight to step 3.

    .venv/bin/python bench/publish_daily.py --scale m --work /tmp/bench_publish
    .venv/bin/python bench/publish_daily.py --raw /work/bench_l/raw --work /work/bench_l/publish
"""

from __future__ import annotations

import collections
import logging
import shutil
import sys
import time
from pathlib import Path

from _common import daily_load_bench, move_load, newest_load, run_job

from insight_engine import publish as pub

log = logging.getLogger("bench.publish_daily")
LAST_VERSION = ("serving.duckdb", "publish_log.duckdb", pub.PUBLISHED_DIR)


def _copy_last_version(src: Path, dst: Path) -> None:
    shutil.rmtree(dst, ignore_errors=True)
    dst.mkdir(parents=True)
    for name in LAST_VERSION:
        if (src / name).is_dir():
            shutil.copytree(src / name, dst / name, symlinks=True)
        elif (src / name).exists():
            shutil.copy2(src / name, dst / name)


def main() -> int:
    args, work, raw = daily_load_bench(__doc__.splitlines()[0], "bench_publish_")
    wh, last = work / "wh", work / "last_version"
    runs: dict[str, dict[str, float]] = {}
    if not (last / "serving.duckdb").exists():
        newest = newest_load(raw)
        shutil.rmtree(wh, ignore_errors=True)
        move_load(raw, work / "held", newest)
        try:
            runs["full run (every load but the newest)"] = run_job(raw, wh, "--full-refresh")
        finally:
            move_load(work / "held", raw, newest)
        _copy_last_version(wh, last)
        runs[f"daily run ({newest} added)"] = run_job(raw, wh)
    build = wh / "insight_engine.duckdb"
    times: dict[str, list[float]] = {"whole": [], "from the last version": []}
    results: dict[str, pub.PublishResult] = {}
    for i in range(args.rounds):
        for kind in times:
            target = work / f"publish_{kind.split()[0]}"
            _copy_last_version(last, target)
            started = time.perf_counter()
            results[kind] = pub.publish(
                build,
                target / "serving.duckdb",
                run_id=pub.new_run_id(),
                publish_log=target / "publish_log.duckdb",
                reuse=kind != "whole",
            )
            times[kind].append(time.perf_counter() - started)
            log.info("round %d, publish %s: %.2f s", i + 1, kind, times[kind][-1])

    def content(result: pub.PublishResult) -> dict:
        assert result.manifest is not None
        return {
            (t["schema"], t["table"]): (t["rows"], t["columns"], t["exact_checksum"])
            for t in result.manifest["tables"]
            if t["schema"] != "ops"  # this run's own log row differs in its run id
        }

    whole, reused = results["whole"], results["from the last version"]
    if content(whole) != content(reused):
        raise SystemExit("the two publishes differ: writing from the last version lost or changed rows")
    if not reused.reused_serving:
        raise SystemExit("the last serving file was not reused: see the log for why")
    before, after = min(times["whole"]), min(times["from the last version"])
    rows = sum(whole.row_counts.values())
    print(
        f"\npublish of a daily build ({len(whole.row_counts)} tables, {rows:,} rows), "
        f"{args.rounds} rounds alternated"
    )
    print("| publish | seconds (each round) | best |")
    print("|---|---|---:|")
    for kind, values in times.items():
        print(f"| {kind} | {', '.join(f'{v:.2f}' for v in values)} | {min(values):.2f} |")
    written = collections.Counter(reused.written.values())
    updated = [t for t, w in reused.written.items() if w == "updated"]
    print(
        f"\nfrom the last version / whole: {after / before:.2f} ({before / after:.1f}x faster); tables "
        f"{dict(written)} (updated: {', '.join(updated) or 'none'}); "
        f"{len(reused.parquet_reused)} Parquet files linked; every table's rows, columns and exact checksum "
        "equal to the whole publish's"
    )
    for name, stages in runs.items():  # measured this call (not when --work held the builds already)
        print(f"{name}, wall s per stage: " + ", ".join(f"{k} {v:.1f}" for k, v in stages.items()))
    sizes = {k: (work / f"publish_{k.split()[0]}" / "serving.duckdb").stat().st_size / 2**20 for k in times}
    print("serving file MB: " + ", ".join(f"{k} {v:,.1f}" for k, v in sizes.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
