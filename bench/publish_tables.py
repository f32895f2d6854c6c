"""Benchmark: a publish's in-place table updates, this working tree's `insight_engine/publish.py` against a
commit's, alternated on fresh copies of the last serving file.

Give it a daily build warehouse (e.g. the `daily_*` or `d0` folder a `daily_settings.py` run left) and the
serving file published from the build before it. Each round copies the serving file, attaches the build
read-only, and calls `_write_table` of each version for each table (`--tables`, default the four largest
facts), printing seconds, how each table was written and the rows deleted and inserted. Both versions must
write the same way and count the same rows, or the script stops.

    .venv/bin/python bench/publish_tables.py --build /work/bench_l/settings/d0/insight_engine.duckdb \\
        --serving /work/bench_l/settings/base/serving.duckdb --base 6ee42ff
"""

from __future__ import annotations

import argparse
import importlib.util
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType

import duckdb
from _common import setup_logging

from insight_engine import duck
from insight_engine import publish as current

REPO = Path(__file__).resolve().parents[1]
DEFAULT_TABLES = [
    "core.fct_journey_events",
    "core.fct_order_lines",
    "core.fct_orders",
    "core.fct_survey_invitations",
]


def _module_at(rev: str, folder: Path) -> ModuleType:
    """`insight_engine/publish.py` as of ``rev``, imported under its own name."""
    source = subprocess.run(
        ["git", "-C", str(REPO), "show", f"{rev}:insight_engine/publish.py"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    path = folder / "publish_at_base.py"
    path.write_text(source, encoding="utf-8")
    spec = importlib.util.spec_from_file_location("publish_at_base", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def _round(module: ModuleType, build: Path, serving: Path, copy: Path, tables: list[str]) -> dict[str, tuple]:
    shutil.copyfile(serving, copy)
    con = duck.configure(duckdb.connect())  # the job's memory limit and threads
    try:
        con.execute(f"attach '{build}' as src (read_only)")
        con.execute(f"attach '{copy}' as dst")
        out = {}
        for name in tables:
            schema, table = name.split(".")
            started = time.perf_counter()
            how, deleted, inserted = module._write_table(con, schema, table)[:3]
            out[name] = (round(time.perf_counter() - started, 2), how, deleted, inserted)
        return out
    finally:
        con.close()
        copy.unlink(missing_ok=True)
        Path(f"{copy}.wal").unlink(missing_ok=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", type=Path, required=True, help="the daily build warehouse (read only)")
    parser.add_argument("--serving", type=Path, required=True, help="the serving file published before it")
    parser.add_argument("--base", default="HEAD", help="the commit compared (default HEAD)")
    parser.add_argument("--tables", nargs="+", default=DEFAULT_TABLES, metavar="SCHEMA.TABLE")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    setup_logging()
    with tempfile.TemporaryDirectory(prefix="bench_publish_tables_", dir=args.serving.parent) as tmp:
        folder = Path(tmp)
        variants = {f"base ({args.base})": _module_at(args.base, folder), "working tree": current}
        totals: dict[str, list[float]] = {name: [] for name in variants}
        for i in range(1, args.rounds + 1):
            seen: dict[str, tuple] = {}
            for name, module in variants.items():
                out = _round(module, args.build, args.serving, folder / "serving_copy.duckdb", args.tables)
                for table, (seconds, how, deleted, inserted) in out.items():
                    print(f"round {i}, {name}: {table} {seconds:.2f} s ({how}, -{deleted:,} +{inserted:,})")
                    if seen.setdefault(table, (how, deleted, inserted)) != (how, deleted, inserted):
                        raise SystemExit(f"{table}: the two versions wrote it differently: {seen[table]}")
                totals[name].append(round(sum(v[0] for v in out.values()), 2))
                print(f"round {i}, {name}: {totals[name][-1]:.2f} s in all", flush=True)
    best = {name: min(v) for name, v in totals.items()}
    (a, b) = best.values()
    print("\n" + ", ".join(f"{name}: {v}" for name, v in totals.items()))
    print(f"best working tree / best base = {b / a:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
