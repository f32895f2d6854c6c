"""Benchmark: the raw gate with its row-level checks in GX's pandas datasource vs the DuckDB row engine.

One landing zone is generated (scale s, 365 days by default); the raw gate runs over it with
``row_engine="gx"`` and ``row_engine="sql"`` back to back (Data Docs off, no gated-loads state: every load is
read), best of ``--repeat`` pairs. Both must give the same verdicts and counts; the ratio gx / sql is the
figure to compare across commits.

    .venv/bin/python bench/gate_engines.py              # scale s, 365 days
    .venv/bin/python bench/gate_engines.py --scale xs --days 60
"""

from __future__ import annotations

import argparse
import logging
import tempfile
import time
from pathlib import Path

from insight_engine.generate import generate
from insight_engine.validate import GateResult, validate

log = logging.getLogger("bench.gate_engines")
NO_WAREHOUSE = Path("/nonexistent/warehouse.duckdb")


def timed_gate(raw: Path, out: Path, engine: str) -> tuple[float, float, GateResult]:
    """Wall seconds, CPU seconds (every thread of the process: DuckDB's too) and the result."""
    t, cpu = time.perf_counter(), time.process_time()
    result = validate(
        "raw", raw_root=raw, warehouse=NO_WAREHOUSE, out_dir=out, data_docs=False, row_engine=engine
    )
    return time.perf_counter() - t, time.process_time() - cpu, result


def verdicts(result: GateResult) -> list[tuple]:
    return [
        (t.table, r.label, r.success, r.element_count, r.unexpected_count, r.unexpected_percent)
        for t in result.tables
        for r in t.expectations
    ]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scale", default="s", choices=["xs", "s", "m"])
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=2, help="timed pairs (gx, sql); best of")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s: %(message)s", datefmt="%H:%M:%S")
    log.setLevel(logging.INFO)

    with tempfile.TemporaryDirectory(prefix="insight-bench-gate-") as tmp:
        work = Path(tmp)
        raw = work / "raw"
        t = time.perf_counter()
        generated = generate(raw, scale=args.scale, seed=args.seed, days=args.days)
        rows = generated.total_rows
        log.info("generated %s: %s rows in %.0fs", args.scale, f"{rows:,}", time.perf_counter() - t)
        best = {"gx": float("inf"), "sql": float("inf")}
        best_cpu = dict(best)
        results: dict[str, GateResult] = {}
        for i in range(args.repeat):
            for engine in ("gx", "sql"):
                seconds, cpu, results[engine] = timed_gate(raw, work / f"out_{engine}", engine)
                best[engine], best_cpu[engine] = min(best[engine], seconds), min(best_cpu[engine], cpu)
                log.info("pair %d: %s %.1fs, cpu %.1fs", i + 1, engine, seconds, cpu)
        same = verdicts(results["gx"]) == verdicts(results["sql"])
        print(f"raw gate, scale {args.scale}, {args.days} days, {rows:,} landing rows")
        print(f"  gx  row engine: {best['gx']:.1f}s wall, {best_cpu['gx']:.1f}s cpu")
        print(f"  sql row engine: {best['sql']:.1f}s wall, {best_cpu['sql']:.1f}s cpu")
        wall, cpu = best["gx"] / best["sql"], best_cpu["gx"] / best_cpu["sql"]
        print(f"  ratio gx/sql: {wall:.2f}x wall, {cpu:.2f}x cpu; same verdicts and counts: {same}")
        if not same:
            raise SystemExit("the engines disagree")


if __name__ == "__main__":
    main()
