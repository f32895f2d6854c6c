"""Benchmark: the same daily run (one new load) under two environments, alternated: a setting's effect on
the whole scheduled job, stage by stage (e.g. a DuckDB setting the profile reads from the environment).

1. A landing zone is generated (or `--raw` is used); its newest load is held back and
   `insight-engine run --full-refresh` builds every other load into `<work>/base` (kept: a second call with
   the same `--work` starts at step 2).
2. The newest load lands, and `insight-engine run` adds it `--rounds` times per environment, alternated,
   each time on a fresh copy of `<work>/base`: once with the `--a` variables, once with the `--b` ones.

Prints each run's wall seconds per stage and the ratio of the best totals (b / a). `--rounds 0` only
builds `<work>/base`.

Two commits instead of two settings: clone each into its own folder and pass
`--a PYTHONPATH=<clone A> --b PYTHONPATH=<clone B>`; the job then imports `insight_engine`, and with it
the dbt project next to it, from that clone (same venv, same dependencies). Jobs run beside the work
folder, not in the repository (whose `insight_engine` `python -m` would import first), and each variant's
package folder is checked and logged before the first run.

    .venv/bin/python bench/daily_settings.py --scale m --work /tmp/bench_settings \\
        --a DUCKDB_PARQUET_METADATA_CACHE=false --b DUCKDB_PARQUET_METADATA_CACHE=true
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import sys
from pathlib import Path

from _common import daily_load_bench, env_pairs, imported_from, move_load, newest_load, run_job

log = logging.getLogger("bench.daily_settings")


def _variants(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--a", action="append", default=[], metavar="NAME=VALUE", help="first environment")
    parser.add_argument("--b", action="append", default=[], metavar="NAME=VALUE", help="second environment")


def main() -> int:
    args, work, raw = daily_load_bench(__doc__.splitlines()[0], "bench_settings_", _variants)
    variants = {"a": env_pairs(args.a), "b": env_pairs(args.b)}
    for name, env in variants.items():  # a PYTHONPATH that does not take effect compares a commit with itself
        package = imported_from(work / f"daily_{name}", env)
        wanted = env.get("PYTHONPATH", "").split(os.pathsep)[0]
        if wanted and not package.is_relative_to(Path(wanted).resolve()):
            raise SystemExit(f"variant {name} imports insight_engine from {package}, not from {wanted}")
        log.info("variant %s imports insight_engine from %s", name, package)
    base = work / "base"
    newest = newest_load(raw)
    if not (base / "insight_engine.duckdb").exists():
        shutil.rmtree(base, ignore_errors=True)
        move_load(raw, work / "held", newest)
        try:
            full = run_job(raw, base, "--full-refresh")
        finally:
            move_load(work / "held", raw, newest)
        print("full run (every load but the newest), wall s per stage: " + _stages(full))
    runs: dict[str, list[dict[str, float]]] = {"a": [], "b": []}
    for i in range(args.rounds):
        for name, env in variants.items():
            wh = work / f"daily_{name}"
            shutil.rmtree(wh, ignore_errors=True)
            shutil.copytree(base, wh, symlinks=True)
            runs[name].append(run_job(raw, wh, env=env))
            log.info("round %d, %s: %.1f s", i + 1, name, runs[name][-1]["total"])
    if not args.rounds:
        return 0
    print(f"\ndaily run ({newest} added), {args.rounds} rounds alternated")
    for name, env in variants.items():
        label = " ".join(f"{k}={v}" for k, v in env.items()) or "(environment unchanged)"
        for i, stages in enumerate(runs[name], start=1):
            print(f"{name} {label}, round {i}: {_stages(stages)}")
    best = {name: min(r["total"] for r in rs) for name, rs in runs.items()}
    print(f"\nbest total: a {best['a']:.1f} s, b {best['b']:.1f} s; b / a = {best['b'] / best['a']:.2f}")
    return 0


def _stages(stages: dict[str, float]) -> str:
    return ", ".join(f"{k} {v:.1f}" for k, v in stages.items())


if __name__ == "__main__":
    sys.exit(main())
