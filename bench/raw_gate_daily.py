"""Benchmark: the raw gate of a daily run (one new load) with the gated-loads state's memory of the files it
read (each file's schema, each load's rows, each foreign key's orphans) vs the same gate without it.

1. A landing zone is generated (or `--raw` is used); its newest load is held back.
2. The raw gate runs over every other load with a gated-loads state (`gated_loads.json`), as a full run's
   gate does.
3. The newest load lands, and the daily gate runs alternately `--rounds` times on copies of that state:
   - **without memory**: the state stripped of `schemas`, `load_rows` and `references`, so the gate reads
     every file's footer, counts rows per load over the whole zone and reads every child key: what the gate
     did before that memory (a state written by an older release reads the same way);
   - **with memory**: the state as written.
   Both read the same new rows, and their results must be identical (every expectation's verdict and
   counts, and the foreign keys' orphan samples).

Prints each round's seconds and the ratio of the best of each (insight_engine/gated.py; DECISIONLOG.md,
"The raw gate remembers each landing file's schema, each load's rows and each foreign key's orphans").

    .venv/bin/python bench/raw_gate_daily.py --scale m
    .venv/bin/python bench/raw_gate_daily.py --raw /work/bench_l/raw --work /work/bench_l/gate
"""

from __future__ import annotations

import json
import logging
import shutil
import sys
import time
from pathlib import Path

from _common import daily_load_bench, move_load, newest_load

from insight_engine import gated
from insight_engine.validate import validate

log = logging.getLogger("bench.raw_gate_daily")
MEMORY = ("schemas", "load_rows", "references")


def _gate(raw: Path, wh: Path, out: Path) -> tuple[float, dict]:
    started = time.perf_counter()
    result = validate(
        "raw",
        raw_root=raw,
        warehouse=wh / "insight_engine.duckdb",
        out_dir=out,
        gated_loads=wh / gated.STATE_NAME,
    )
    seconds = time.perf_counter() - started
    if not result.success:
        raise SystemExit(f"the raw gate failed in {out}: {result.failures[:3]}")
    return seconds, json.loads(result.results_path.read_text())


def _verdicts(results: dict) -> list[tuple]:
    return [
        (
            t["table"],
            t["rows"],
            e["expectation"],
            json.dumps(e.get("kwargs"), sort_keys=True),
            e["success"],
            e.get("element_count"),
            e.get("unexpected_count"),
            str(e.get("observed_value")),
            json.dumps(e.get("details"), sort_keys=True) if "reference" in e["expectation"] else "",
        )
        for t in results["tables"]
        for e in t["expectations"]
    ]


def main() -> int:
    args, work, raw = daily_load_bench(__doc__.splitlines()[0], "bench_raw_gate_")
    newest = newest_load(raw)
    held = work / "held"
    files = len(list(raw.glob("*/*/load_date=*/*")))
    log.info("%s: %d files; holding back %s", raw, files, newest)
    move_load(raw, held, newest)
    try:
        base = work / "wh_full"
        shutil.rmtree(base, ignore_errors=True)
        seconds, _ = _gate(raw, base, work / "gates_full")
        log.info("gate over every other load, state written: %.1f s", seconds)
    finally:
        move_load(held, raw, newest)
    state = json.loads((base / gated.STATE_NAME).read_text())
    stripped = {k: v for k, v in state.items() if k not in MEMORY}
    stripped["tables"] = {
        t: {k: v for k, v in totals.items() if k not in MEMORY} for t, totals in state["tables"].items()
    }
    times: dict[str, list[float]] = {"without memory": [], "with memory": []}
    verdicts: dict[str, list] = {}
    for i in range(args.rounds):
        for kind, payload in (("without memory", stripped), ("with memory", state)):
            wh = work / f"wh_{kind.replace(' ', '_')}"
            shutil.rmtree(wh, ignore_errors=True)
            wh.mkdir()
            (wh / gated.STATE_NAME).write_text(json.dumps(payload))
            seconds, results = _gate(raw, wh, work / f"gates_{kind.replace(' ', '_')}")
            times[kind].append(seconds)
            verdicts[kind] = _verdicts(results)
            log.info("round %d, daily gate %s: %.1f s", i + 1, kind, seconds)
    if verdicts["without memory"] != verdicts["with memory"]:
        raise SystemExit("the two daily gates' results differ: the memory does not stand for the files")
    before, after = min(times["without memory"]), min(times["with memory"])
    print(f"\nraw gate, daily run ({newest} new, {files:,} landing files), {args.rounds} rounds alternated")
    print("| daily gate | seconds (each round) | best |")
    print("|---|---|---:|")
    for kind, values in times.items():
        print(f"| {kind} | {', '.join(f'{v:.1f}' for v in values)} | {min(values):.1f} |")
    print(
        f"\nwith memory / without: {after / before:.2f} ({before / after:.1f}x faster); "
        f"{len(verdicts['with memory'])} results identical"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
