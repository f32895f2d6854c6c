"""Benchmark: the same `dbt build` on DuckDB and on Spark (`spark_local`), measured back to back in one run.

The machine is shared and noisy, so the ratio Spark / DuckDB measured in one run is the figure to compare
across commits; the seconds are context. Each engine builds the same landing zone into its own folder.
Spark runs in a subprocess, like the parity test (its JVM and embedded metastore stay out of this process).

    .venv/bin/python bench/spark_vs_duckdb.py                   # scale s (540 days), about 11 minutes here
    .venv/bin/python bench/spark_vs_duckdb.py --scale xs --days 45
    .venv/bin/python bench/spark_vs_duckdb.py --skip-unit-tests # how much of Spark's time the unit tests take
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from _common import setup_logging

from insight_engine.dbt import run_dbt
from insight_engine.generate import generate

log = logging.getLogger("bench.spark")

_SPARK_BUILD = """
import json, sys
from pathlib import Path
from insight_engine.dbt import run_dbt
raw, work, args = Path(sys.argv[1]), Path(sys.argv[2]), json.loads(sys.argv[3])
res = run_dbt(args, raw_root=raw, warehouse=work / "unused.duckdb", target_path=work / "target",
              target="spark_local",
              extra_env={"SPARK_BUILD_DIR": str(work / "spark"), "DBT_LOG_PATH": str(work / "logs")})
(work / "result.json").write_text(json.dumps({"success": res.success, "failures": res.failures}))
"""


def node_seconds(target: Path) -> dict[str, float]:
    """Summed execution time per resource type (model, test, unit_test, seed, snapshot) from run_results."""
    out: dict[str, float] = defaultdict(float)
    for r in json.loads((target / "run_results.json").read_text())["results"]:
        out[r["unique_id"].split(".")[0]] += r["execution_time"]
    return dict(out)


def slowest(target: Path, n: int = 8) -> list[tuple[str, float]]:
    results = json.loads((target / "run_results.json").read_text())["results"]
    ranked = sorted(results, key=lambda r: -r["execution_time"])[:n]
    return [(r["unique_id"].split(".", 2)[-1][:60], r["execution_time"]) for r in ranked]


def compare(raw: Path, work: Path, dbt_args: list[str]) -> dict:
    """``dbt <dbt_args>`` over ``raw`` on DuckDB (in this process) then on Spark (a subprocess), each into its
    own folder under ``work``: wall seconds, summed node seconds per resource type, slowest nodes."""
    log.info("dbt %s on DuckDB", " ".join(dbt_args))
    t = time.perf_counter()
    duck = run_dbt(dbt_args, raw_root=raw, warehouse=work / "duck.duckdb", target_path=work / "duck_target")
    duck_s = time.perf_counter() - t
    if not duck.success:
        raise SystemExit(f"DuckDB build failed: {duck.failures[:3]}")
    log.info("DuckDB: %.1f s", duck_s)

    spark_work = work / "spark_build"
    spark_work.mkdir()
    log.info("dbt %s on Spark (spark_local); progress in %s", " ".join(dbt_args), spark_work / "logs")
    t = time.perf_counter()
    subprocess.run(
        [sys.executable, "-c", _SPARK_BUILD, str(raw), str(spark_work), json.dumps(dbt_args)],
        cwd=spark_work,
        env={**os.environ, "TZ": "UTC"},
        check=False,
    )
    spark_s = time.perf_counter() - t
    result = json.loads((spark_work / "result.json").read_text())
    if not result["success"]:
        raise SystemExit(f"Spark build failed: {result['failures'][:3]}")
    log.info("Spark: %.1f s", spark_s)
    return {
        "duckdb_s": duck_s,
        "spark_s": spark_s,
        "duckdb_nodes": node_seconds(work / "duck_target"),
        "spark_nodes": node_seconds(spark_work / "target"),
        "slowest": {"DuckDB": slowest(work / "duck_target"), "Spark": slowest(spark_work / "target")},
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scale", default="s", choices=["xs", "s", "m", "l"])
    parser.add_argument("--days", type=int, default=None)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--skip-unit-tests", action="store_true", help="build with --exclude-resource-type unit_test"
    )
    args = parser.parse_args()
    setup_logging()
    dbt_args = ["build"] + (["--exclude-resource-type", "unit_test"] if args.skip_unit_tests else [])

    with tempfile.TemporaryDirectory(prefix="insight-bench-spark-") as tmp:
        work = Path(tmp)
        raw = work / "raw"
        log.info("generating scale %s (%s days)", args.scale, args.days or "default")
        gen = generate(raw, scale=args.scale, seed=args.seed, days=args.days, bad_rate=0.02)
        res = compare(raw, work, dbt_args)
        duck_s, spark_s = res["duckdb_s"], res["spark_s"]
        duck_nodes, spark_nodes, slow = res["duckdb_nodes"], res["spark_nodes"], res["slowest"]

    print(f"\nlanding zone: scale {args.scale}, {gen.total_rows:,} rows; dbt {' '.join(dbt_args)}")
    print(f"{'':<22}{'DuckDB':>10}{'Spark':>10}{'Spark/DuckDB':>14}")
    print(f"{'wall seconds':<22}{duck_s:>10.1f}{spark_s:>10.1f}{spark_s / duck_s:>14.2f}")
    for kind in sorted(set(duck_nodes) | set(spark_nodes)):
        d, s = duck_nodes.get(kind, 0.0), spark_nodes.get(kind, 0.0)
        ratio = f"{s / d:>14.2f}" if d > 0 else f"{'-':>14}"
        print(f"{'node s, ' + kind:<22}{d:>10.1f}{s:>10.1f}{ratio}")
    for engine, nodes in slow.items():
        print(f"\nslowest nodes on {engine}:")
        for name, seconds in nodes:
            print(f"  {seconds:8.1f} s  {name}")


if __name__ == "__main__":
    main()
