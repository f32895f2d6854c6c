"""Benchmarks: generator throughput and warehouse build/gate times, as ratios measured in one run.

The machine is shared and noisy, so absolute seconds are reported for context only; the ratios (bigger
scale vs smaller scale, measured back to back in the same process) are what to compare across commits.

    .venv/bin/python bench/run.py                 # xs vs s
    .venv/bin/python bench/run.py --scales xs s m # add m (minutes)
    .venv/bin/python bench/run.py --no-gates      # skip the Great Expectations gates
"""

from __future__ import annotations

import argparse
import json
import logging
import tempfile
import time
from pathlib import Path

from _common import setup_logging

from insight_engine.dbt import run_dbt
from insight_engine.generate import generate

log = logging.getLogger("bench")


def bench_scale(scale: str, work: Path, gates: bool) -> dict[str, float]:
    raw = work / scale / "raw"
    t = time.perf_counter()
    result = generate(raw, scale=scale, seed=1, bad_rate=0.02)
    gen_s = time.perf_counter() - t
    t = time.perf_counter()
    built = run_dbt(
        ["build"], raw_root=raw, warehouse=work / scale / "wh.duckdb", target_path=work / scale / "t"
    )
    build_s = time.perf_counter() - t
    if not built.success:
        raise SystemExit(f"dbt build failed at scale {scale}: {built.failures[:3]}")
    out = {"rows": result.total_rows, "generate_s": gen_s, "build_s": build_s}
    if gates:
        from insight_engine.validate import validate

        for stage in ("raw", "marts"):
            t = time.perf_counter()
            validate(
                stage, raw_root=raw, warehouse=work / scale / "wh.duckdb", out_dir=work / scale / "gates"
            )
            out[f"{stage}_gate_s"] = time.perf_counter() - t
    log.info("scale %s: %s", scale, {k: round(v, 1) for k, v in out.items()})
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scales", nargs="+", default=["xs", "s"])
    parser.add_argument("--no-gates", action="store_true")
    args = parser.parse_args()
    setup_logging()
    with tempfile.TemporaryDirectory(prefix="insight-bench-") as tmp:
        results = {s: bench_scale(s, Path(tmp), not args.no_gates) for s in args.scales}
    base = results[args.scales[0]]
    header = ("scale", "rows", "gen rows/s", "build s", "rows x", "build x", "rows/build-s")
    print(f"{header[0]:<6}" + "".join(f"{h:>13}" for h in header[1:]))
    for scale, r in results.items():
        cells = (
            f"{r['rows']:,}",
            f"{r['rows'] / r['generate_s']:,.0f}",
            f"{r['build_s']:.1f}",
            f"{r['rows'] / base['rows']:.1f}",
            f"{r['build_s'] / base['build_s']:.2f}",
            f"{r['rows'] / r['build_s']:,.0f}",
        )
        print(f"{scale:<6}" + "".join(f"{c:>13}" for c in cells))
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
