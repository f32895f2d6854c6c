"""Benchmark: a daily run's tests of incremental models, on the rows the run wrote vs on whole tables.

Over the build warehouse of a daily run kept by `bench/scale.py --keep` (`<work>/<scale>/wh_daily`):

1. the tests the daily run sliced are read from its `target/run_results.json` (their SQL as run);
2. the same tests are compiled again with `--vars '{test_incremental_slices: false}'` (whole tables);
3. each test's two queries run alone on the warehouse, read-only, alternately, best of `--repeat`;
   both must find no failing row.

Prints a table per test and the totals (macros/utils/test_slices.sql; DECISIONLOG.md, "Tests of
incremental models read the rows the run wrote").

    .venv/bin/python bench/scale.py --scales m --one-full-run --keep --work /tmp/bm
    .venv/bin/python bench/test_slices.py /tmp/bm/m/wh_daily
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
import time
from pathlib import Path

import duckdb
from _common import setup_logging

from insight_engine.dbt import run_dbt

log = logging.getLogger("bench.test_slices")


def _sliced_tests(target: Path) -> dict[str, str]:
    results = json.loads((target / "run_results.json").read_text())["results"]
    return {
        r["unique_id"]: r["compiled_code"]
        for r in results
        if r["unique_id"].startswith("test.") and "test_slices" in (r.get("compiled_code") or "")
    }


def _whole_tests(wh_dir: Path, names: list[str], work: Path) -> dict[str, str]:
    target = work / "target"
    res = run_dbt(
        ["compile", "--select", " ".join(names), "--vars", json.dumps({"test_incremental_slices": False})],
        raw_root=wh_dir.parent / "raw",
        warehouse=wh_dir / "insight_engine.duckdb",
        target_path=target,
        console_log_level="warn",
    )
    if not res.success:
        sys.exit(f"dbt compile failed: {res.failures}")
    results = json.loads((target / "run_results.json").read_text())["results"]
    return {r["unique_id"]: r["compiled_code"] for r in results}


def _timed(con: duckdb.DuckDBPyConnection, sql: str) -> tuple[float, int]:
    t = time.perf_counter()
    (n,) = con.execute(f"select count(*) from ({sql}) as failures").fetchone()
    return time.perf_counter() - t, int(n)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("wh_daily", type=Path, help="a kept daily run's warehouse folder")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    setup_logging()
    wh_dir = args.wh_daily.resolve()
    sliced = _sliced_tests(wh_dir / "target")
    if not sliced:
        sys.exit(f"{wh_dir / 'target'} holds no sliced test: was it a daily run after a clean build?")
    log.info("%d sliced tests in the daily run; compiling them on whole tables", len(sliced))
    with tempfile.TemporaryDirectory(prefix="bench-test-slices-") as tmp:
        whole = _whole_tests(wh_dir, sorted(uid.split(".")[2] for uid in sliced), Path(tmp))
    missing = set(sliced) - set(whole)
    if missing or any("test_slices" in whole[uid] for uid in sliced):
        sys.exit(f"the whole-table compile did not give every test unsliced: {sorted(missing)[:5]}")
    rows = []
    with duckdb.connect(str(wh_dir / "insight_engine.duckdb"), read_only=True) as con:
        for uid in sorted(sliced):
            times = {"whole": [], "sliced": []}
            for _ in range(args.repeat):
                for kind, sql in (("whole", whole[uid]), ("sliced", sliced[uid])):
                    seconds, failures = _timed(con, sql)
                    if failures:
                        sys.exit(f"{uid} ({kind}) finds {failures} failing rows: the warehouse is not clean")
                    times[kind].append(seconds)
            rows.append((uid.split(".")[2], min(times["whole"]), min(times["sliced"])))
    rows.sort(key=lambda r: -r[1])
    print(f"\n{len(rows)} tests, best of {args.repeat}, {wh_dir}\n")
    print("| test | whole table (s) | slice (s) | ratio |")
    print("|---|---:|---:|---:|")
    for name, w, s in rows:
        print(f"| `{name[:70]}` | {w:.3f} | {s:.3f} | {w / s if s else float('inf'):.1f}x |")
    total_w, total_s = sum(r[1] for r in rows), sum(r[2] for r in rows)
    print(f"| **all {len(rows)}** | **{total_w:.2f}** | **{total_s:.2f}** | **{total_w / total_s:.1f}x** |")


if __name__ == "__main__":
    main()
