"""Benchmark: the web sessions incremental by device vs rebuilt whole, on a daily load (DuckDB, one run).

Over a landing zone (generated here at `--scale`, or an existing one with `--zone`, e.g. scale l's):

1. the newest load is moved aside; `+int_web_sessions_sessionised` is built over the other loads;
2. the newest load is put back; everything upstream of the sessions runs again (incremental by load);
3. the warehouse is copied; on one copy the sessions run incrementally (by device), on the other they
   are rebuilt whole (`--full-refresh`), back to back, each `dbt run` a child process (wall time, peak
   RSS of its process tree); then a run with nothing new;
4. the two tables must hold the same rows (`except all` both ways, the engine's fingerprint included).

    .venv/bin/python bench/incremental_sessions.py --scale s
    .venv/bin/python bench/incremental_sessions.py --zone /path/to/scale-l/raw   # about 15 min at l
"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
import sys
import tempfile
from pathlib import Path

import duckdb
from _common import measure, setup_logging
from scale import child_env, hold_back_newest, put_back

from insight_engine.generate import generate

log = logging.getLogger("bench.incremental_sessions")
PROJECT_DIR = Path(__file__).resolve().parents[1]
MODEL = "int_web_sessions_sessionised"


def dbt(work: Path, zone: Path, warehouse: Path, name: str, *args: str, command: str = "run") -> dict:
    env = {**child_env(work), "RAW_ROOT": str(zone), "INSIGHT_WAREHOUSE": str(warehouse)}
    cmd = [str(Path(sys.executable).parent / "dbt"), command, "-q", *args, "--target-path", str(work / name)]
    m = measure(cmd, env=env, cwd=PROJECT_DIR)
    if m.returncode != 0:
        raise SystemExit(f"{name} failed:\n{m.stdout[-3000:]}\n{m.stderr[-3000:]}")
    log.info("%s: %.1f s, peak RSS %.2f GB", name, m.wall_s, m.peak_rss_gb)
    return {"wall_s": round(m.wall_s, 2), "peak_rss_gb": round(m.peak_rss_gb, 3)}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scale", default="s", choices=["xs", "s", "m", "l"])
    parser.add_argument(
        "--zone", type=Path, help="an existing landing zone (its newest load is moved and put back)"
    )
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    setup_logging()

    with tempfile.TemporaryDirectory(prefix="insight-bench-sessions-") as tmp:
        work = Path(tmp)
        zone = args.zone
        if zone is None:
            zone = work / "raw"
            generate(zone, scale=args.scale, seed=1, bad_rate=0.02)
        newest, moved, rows = hold_back_newest(zone, work / "held_back")
        log.info("held back load %s: %s rows in %d tables", newest, f"{rows:,}", len(moved))
        # the same file name in two folders: DuckDB names the catalog after the file
        incremental, whole = work / "incremental" / "wh.duckdb", work / "whole" / "wh.duckdb"
        incremental.parent.mkdir()
        whole.parent.mkdir()
        try:
            dbt(work, zone, incremental, "seed", command="seed")
            dbt(work, zone, incremental, "yesterday", "-s", f"+{MODEL}")
        finally:
            put_back(zone, work / "held_back", moved)
        dbt(work, zone, incremental, "upstream_today", "-s", f"+{MODEL}", "--exclude", MODEL)
        shutil.copy(incremental, whole)
        out = {
            "newest_load": newest,
            "newest_load_rows": rows,
            "incremental": dbt(work, zone, incremental, "incremental", "-s", MODEL),
            "rebuilt_whole": dbt(work, zone, whole, "rebuilt_whole", "-s", MODEL, "--full-refresh"),
            "nothing_new": dbt(work, zone, incremental, "nothing_new", "-s", MODEL),
        }
        with duckdb.connect(str(incremental), read_only=True) as con:
            con.execute(f"attach '{whole}' as whole_build (read_only)")
            table = f"intermediate.{MODEL}"
            differ = sum(
                con.execute(
                    f"select count(*) from (select * from {a} except all select * from {b})"
                ).fetchone()[0]
                for a, b in ((table, f"whole_build.{table}"), (f"whole_build.{table}", table))
            )
            sessions, devices = con.execute(
                f"select count(*), count(distinct anonymous_id) from {table}"
            ).fetchone()
            (touched,) = con.execute(
                "select count(distinct anonymous_id) from staging.base_web__events where load_date = ?",
                [newest],
            ).fetchone()
        if differ:
            raise SystemExit(f"the incremental sessions differ from the rebuilt ones in {differ} rows")
        out.update(sessions=sessions, devices=devices, devices_in_newest_load=touched)
        out["ratio_whole_to_incremental"] = round(
            out["rebuilt_whole"]["wall_s"] / out["incremental"]["wall_s"], 2
        )
    log.info(
        "sessions %s of %s devices (%s with events in the newest load): rebuilt whole %.1f s, incremental "
        "%.1f s (%.2fx), nothing new %.1f s; identical rows",
        f"{sessions:,}",
        f"{devices:,}",
        f"{touched:,}",
        out["rebuilt_whole"]["wall_s"],
        out["incremental"]["wall_s"],
        out["ratio_whole_to_incremental"],
        out["nothing_new"]["wall_s"],
    )
    print(json.dumps(out, indent=2))
    if args.json:
        args.json.write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
