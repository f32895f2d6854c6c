"""Benchmark: what the whole scheduled job costs at a scale, every figure measured in one run (issue 13.4).

For each scale given (`--scales m l`, default m), in a work folder of its own:

* generator: `insight-engine generate` in a child process: rows, rows/s, peak RSS;
* raw-scan floor: one DuckDB pass that reads every raw column of every landing table once (an aggregate
  over each column's hash), seconds: what no build can beat;
* full run: `insight-engine run --full-refresh` over the whole zone in a child process with its own
  warehouse folder: wall, per stage (from the run's JSON log), peak RSS of the process tree (every child's
  RSS summed, polled every 0.2 s), ratio to the raw-scan floor;
* daily run: the newest load (every table's folder of the newest load date) is moved aside, a full run
  builds the rest into a second warehouse folder, the load is put back and a plain `insight-engine run`
  adds it: wall, per stage, peak RSS, its share of the full run above;
* `--pandas-customer`: fct_customer-like figures (orders, revenue, last order, NPS answers per CRM
  customer) computed with pandas from the raw files in a child process, beside the full run's dbt build;
* `--spark`: the same `dbt build` on DuckDB and on Spark `spark_local` (bench/spark_vs_duckdb.py).

Prints a markdown table per scale; `--write-readme` puts it in bench/README.md (one section per scale,
replaced when measured again), `--json FILE` writes every figure.

    .venv/bin/python bench/scale.py --scales xs            # about 3 minutes here
    .venv/bin/python bench/scale.py --scales m l --write-readme --json build/bench-scale.json
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import shlex
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import (
    Measured,
    job_command,
    machine,
    measure,
    nodes_running_at,
    setup_logging,
    stage_at,
    stage_seconds,
)
from spark_vs_duckdb import compare, node_seconds, slowest

from insight_engine.generate import SCALES

log = logging.getLogger("bench.scale")
PROJECT_DIR = Path(__file__).resolve().parents[1]
README = PROJECT_DIR / "bench" / "README.md"
STAGES = ["startup", "raw_gate", "ledger", "dbt_build", "mart_gate", "publish", "exit"]


def cli(*args: object) -> list[str]:
    return [sys.executable, "-m", "insight_engine.cli", *map(str, args)]


def child_env(work: Path) -> dict[str, str]:
    path = os.pathsep.join(p for p in [str(PROJECT_DIR), os.environ.get("PYTHONPATH", "")] if p)
    return {
        **os.environ,
        "PYTHONPATH": path,
        "TZ": "UTC",
        "DBT_PROFILES_DIR": str(PROJECT_DIR),
        "DBT_LOG_PATH": str(work / "logs"),
    }


def check(m: Measured, what: str) -> None:
    if m.returncode != 0:
        tail = (m.stdout[-2000:] + "\n" + m.stderr[-3000:]).strip()
        raise SystemExit(f"{what} failed (exit {m.returncode}): {shlex.join(m.cmd)}\n{tail}")


# ------------------------------------------------------------------ the measurements
def generator(zone: Path, work: Path, scale: str, seed: int, days: int | None, bad_rate: float) -> dict:
    cmd = cli("generate", "--scale", scale, "--seed", seed, "--bad-rate", bad_rate, "--out", zone)
    if days:
        cmd += ["--days", str(days)]
    m = measure(cmd, env=child_env(work), cwd=work)
    check(m, "generate")
    manifest = json.loads((zone / "_manifest.json").read_text())
    rows = sum(manifest["rows"].values())
    return {
        "rows": rows,
        "days": manifest["days"],
        "wall_s": round(m.wall_s, 2),
        "generate_s": manifest["seconds"],  # simulation and writing, without the interpreter's imports
        "rows_per_s": round(rows / max(manifest["seconds"], 1e-9)),
        "peak_rss_gb": round(m.peak_rss_gb, 3),
    }


def landing_tables(zone: Path) -> list[Path]:
    return sorted(p for p in zone.glob("*/*") if p.is_dir() and any(p.glob("load_date=*")))


def raw_scan(zone: Path) -> dict:
    """One DuckDB pass over every landing file: each column read and hashed once (the floor of any build)."""
    con = duckdb.connect()
    queries, files, size, columns = [], 0, 0, 0
    for table in landing_tables(zone):
        found = [f for f in table.glob("load_date=*/*") if f.is_file()]
        files, size = files + len(found), size + sum(f.stat().st_size for f in found)
        if any(f.suffix == ".parquet" for f in found):
            rel = f"read_parquet('{table}/*/*.parquet', hive_partitioning = false)"
        else:
            rel = f"read_csv('{table}/*/*.csv*', header = true, all_varchar = true, union_by_name = true)"
        names = [row[0] for row in con.execute(f"describe select * from {rel}").fetchall()]
        columns += len(names)
        hashed = ", ".join(f'bit_xor(hash("{n}"))' for n in names)
        queries.append(f"select count(*) as n, {hashed} from {rel}")
    t = time.perf_counter()
    rows = sum(con.execute(q).fetchone()[0] for q in queries)
    seconds = time.perf_counter() - t
    con.close()
    return {
        "seconds": round(seconds, 2),
        "tables": len(queries),
        "columns": columns,
        "rows": rows,
        "files": files,
        "file_mb": round(size / 1e6, 1),
        "threads": os.cpu_count(),
    }


def job(name: str, zone: Path, warehouse: Path, work: Path, *extra: str) -> dict:
    """`insight-engine run` in a child process with its own warehouse folder, gates and dbt target."""
    cmd = job_command(zone, warehouse, *extra)
    log.info("%s: %s", name, " ".join(["insight-engine", *cmd[3:]]))
    m = measure(cmd, env=child_env(work), cwd=work)
    check(m, name)
    stages = stage_seconds(m)
    target = warehouse / "target"
    out = {
        "wall_s": round(m.wall_s, 2),
        "peak_rss_gb": round(m.peak_rss_gb, 3),
        "stages": stages,
        "node_seconds": {k: round(v, 2) for k, v in node_seconds(target).items()},
        "slowest_nodes": [(n, round(s, 2)) for n, s in slowest(target, 8)],
        # where the peak RSS was: the run's stage then and, inside dbt, the nodes running then
        "peak_at": {
            "seconds_into_run": round(m.peak_at - m.started_at, 1),
            "stage": stage_at(m, m.peak_at),
            "dbt_nodes": nodes_running_at(target / "run_results.json", m.peak_at),
        },
    }
    log.info(
        "%s: %.1f s, peak RSS %.2f GB; %s",
        name,
        m.wall_s,
        m.peak_rss_gb,
        ", ".join(f"{k} {v}" for k, v in stages.items()),
    )
    return out


def hold_back_newest(zone: Path, aside: Path) -> tuple[str, list[Path], int]:
    """Move every table's folder of the zone's newest load date to ``aside``: (date, folders, rows)."""
    folders = [p for p in zone.glob("*/*/load_date=*") if p.is_dir()]
    newest = max(p.name.split("=", 1)[1] for p in folders)
    moved, rows = [], 0
    for folder in (p for p in folders if p.name == f"load_date={newest}"):
        rows += sum(pq.read_metadata(f).num_rows for f in folder.glob("*.parquet"))
        dest = aside / folder.relative_to(zone)
        dest.parent.mkdir(parents=True, exist_ok=True)
        folder.rename(dest)
        moved.append(folder)
    return newest, moved, rows


def put_back(zone: Path, aside: Path, moved: list[Path]) -> None:
    for folder in moved:
        (aside / folder.relative_to(zone)).rename(folder)


def pandas_customer(zone: Path) -> dict:
    """fct_customer-like figures the way a user without the warehouse might compute them: pandas over the
    raw files, latest copy of each row, customers matched on e-mail. Runs in a child (--pandas-worker).
    """
    import pandas as pd

    started = time.perf_counter()

    def read(table: str, columns: list[str], key: list[str]) -> pd.DataFrame:
        df = pd.read_parquet(zone / table, columns=[*columns, "_loaded_at"])
        return df.sort_values("_loaded_at").drop_duplicates(key, keep="last")

    def email(s: pd.Series) -> pd.Series:
        return s.str.strip().str.lower()

    crm = read("crm/customers", ["crm_customer_id", "email"], ["crm_customer_id"])
    crm["email_key"] = email(crm["email"])
    by_email = crm.dropna(subset=["email_key"]).drop_duplicates("email_key")[["email_key", "crm_customer_id"]]
    shop = read("commerce/customers", ["shop_customer_id", "email"], ["shop_customer_id"])
    shop["email_key"] = email(shop["email"])
    orders = read(
        "commerce/orders", ["order_id", "shop_customer_id", "ordered_at", "discount_amount"], ["order_id"]
    )
    orders["ordered_at"] = pd.to_datetime(orders["ordered_at"], utc=True, format="ISO8601", errors="coerce")
    lines = read(
        "commerce/order_lines",
        ["order_line_id", "order_id", "quantity", "unit_price"],
        ["order_id", "order_line_id"],
    )
    lines["amount"] = lines["quantity"] * lines["unit_price"]
    revenue = lines.groupby("order_id", as_index=False)["amount"].sum()
    orders = orders.merge(revenue, on="order_id", how="left")
    orders["revenue"] = orders["amount"].fillna(0) - orders["discount_amount"].fillna(0)
    orders = orders.merge(shop[["shop_customer_id", "email_key"]], on="shop_customer_id", how="left")
    orders = orders.merge(by_email, on="email_key", how="inner")
    per_order = orders.groupby("crm_customer_id").agg(
        n_orders=("order_id", "nunique"), revenue=("revenue", "sum"), last_order_at=("ordered_at", "max")
    )

    questions = read("survey/questions", ["question_id", "metric"], ["question_id"])
    answers = read(
        "survey/answers", ["response_id", "question_id", "answer_numeric"], ["response_id", "question_id"]
    )
    nps = answers[answers["question_id"].isin(questions.loc[questions["metric"] == "nps", "question_id"])]
    responses = read("survey/responses", ["response_id", "invitation_id", "email"], ["response_id"])
    invitations = read("survey/invitations", ["invitation_id", "crm_customer_id"], ["invitation_id"])
    responses = responses.merge(invitations, on="invitation_id", how="left")
    responses["email_key"] = email(responses["email"])
    responses = responses.merge(
        by_email.rename(columns={"crm_customer_id": "by_email"}), on="email_key", how="left"
    )
    responses["crm_customer_id"] = responses["crm_customer_id"].fillna(responses["by_email"])
    nps = nps.merge(responses[["response_id", "crm_customer_id"]], on="response_id").dropna(
        subset=["crm_customer_id"]
    )
    per_nps = nps.groupby("crm_customer_id").size().rename("n_nps_answers")

    customers = crm[["crm_customer_id"]].set_index("crm_customer_id").join(per_order).join(per_nps)
    return {
        "seconds": round(time.perf_counter() - started, 2),
        "customers": len(customers),
        "with_orders": int(customers["n_orders"].notna().sum()),
        "orders": int(customers["n_orders"].sum()),
        "revenue": round(float(customers["revenue"].sum()), 2),
        "nps_answers": int(customers["n_nps_answers"].sum()),
    }


def pandas_customer_measured(zone: Path, work: Path) -> dict:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--pandas-worker", str(zone)]
    m = measure(cmd, env=child_env(work), cwd=work)
    check(m, "pandas fct_customer-like")
    return {
        **json.loads(m.stdout.strip().splitlines()[-1]),
        "wall_s": round(m.wall_s, 2),
        "peak_rss_gb": round(m.peak_rss_gb, 3),
    }


def fct_customer_rows(warehouse: Path) -> int:
    with duckdb.connect(str(warehouse / "serving.duckdb"), read_only=True) as con:
        schema = con.execute(
            "select table_schema from information_schema.tables where table_name = 'fct_customer' limit 1"
        ).fetchone()
        return con.execute(f'select count(*) from "{schema[0]}".fct_customer').fetchone()[0] if schema else -1


def bench_scale(scale: str, work: Path, args: argparse.Namespace, save=lambda out: None) -> dict:
    """Every figure of one scale; ``save(out)`` is called after each stage (a long run keeps what it has)."""
    work.mkdir(parents=True, exist_ok=True)
    out: dict = {"scale": scale, "loadavg_start": os.getloadavg()[0]}
    if args.zone is not None:  # re-measuring the runs over a zone generated before: no generator figure
        zone = args.zone
        log.info("scale %s: the landing zone %s as it is (no generator run)", scale, zone)
        out["zone"] = str(zone)
    else:
        zone = work / "raw"
        log.info("scale %s: generating into %s", scale, zone)
        out["generator"] = gen = generator(zone, work, scale, args.seed, args.days, args.bad_rate)
        log.info(
            "generated %s rows (%s days) at %s rows/s, peak RSS %.2f GB",
            f"{gen['rows']:,}",
            gen["days"],
            f"{gen['rows_per_s']:,}",
            gen["peak_rss_gb"],
        )

    out["raw_scan"] = scan = raw_scan(zone)
    log.info(
        "raw-scan floor: %.2f s (%s tables, %s columns, %s MB)",
        scan["seconds"],
        scan["tables"],
        scan["columns"],
        scan["file_mb"],
    )

    save(out)
    one_full_run = args.one_full_run or scale == "l"  # at l a second full run would cost half an hour more
    if not one_full_run:
        out["full"] = job("full run", zone, work / "wh_full", work, "--full-refresh")
        save(out)

    newest, moved, rows = hold_back_newest(zone, work / "held_back")
    log.info("held back load %s: %d folders, %s rows", newest, len(moved), f"{rows:,}")
    try:
        out["full_without_newest"] = job(
            "full run without the newest load", zone, work / "wh_daily", work, "--full-refresh"
        )
    finally:
        put_back(zone, work / "held_back", moved)
    if one_full_run:  # the full figure is the run over every load but the newest (one day of many)
        out["one_full_run"] = True
        out["full"] = out["full_without_newest"]
    full = out["full"]
    full["floor_ratio"] = round(full["wall_s"] / max(scan["seconds"], 1e-9), 1)
    save(out)
    if args.keep_base is not None:  # not timed: a copy of the daily run's starting point, for A/B runs later
        log.info("copying the daily run's starting point to %s", args.keep_base)
        shutil.copytree(work / "wh_daily", args.keep_base, symlinks=True)
        out["base_copy"] = str(args.keep_base)
    out["daily"] = daily = job("daily run", zone, work / "wh_daily", work)
    daily.update(newest_load=newest, newest_load_folders=len(moved), newest_load_rows=rows)
    daily["share_of_full"] = round(daily["wall_s"] / full["wall_s"], 3)

    save(out)
    if args.pandas_customer and scale == "l":
        log.info(
            "pandas fct_customer-like: skipped at l (the issue asks for it at m; it would hold 70M rows)"
        )
    elif args.pandas_customer:
        log.info("pandas fct_customer-like over the raw files")
        pc = pandas_customer_measured(zone, work)
        pc["dbt_build_s"] = full["stages"].get("dbt_build")
        wh_full = work / ("wh_daily" if one_full_run else "wh_full")
        pc["fct_customer_rows"] = fct_customer_rows(wh_full)
        pc["fct_customer_node_s"] = next(
            (s for n, s in _node_times(wh_full / "target") if n == "fct_customer"), None
        )
        out["pandas_customer"] = pc
        log.info("pandas: %.1f s, peak RSS %.2f GB", pc["wall_s"], pc["peak_rss_gb"])
    if args.spark:
        spark_work = work / "spark"
        spark_work.mkdir()
        res = compare(zone, spark_work, ["build"])
        out["spark"] = {
            "duckdb_s": round(res["duckdb_s"], 1),
            "spark_s": round(res["spark_s"], 1),
            "ratio": round(res["spark_s"] / res["duckdb_s"], 2),
            "slowest": res["slowest"],
        }
    out["loadavg_end"] = os.getloadavg()[0]
    return out


def _node_times(target: Path) -> list[tuple[str, float]]:
    results = json.loads((target / "run_results.json").read_text())["results"]
    return [
        (r["unique_id"].split(".")[-1], r["execution_time"])
        for r in results
        if r["unique_id"].startswith("model.")
    ]


# ------------------------------------------------------------------ reporting
def _gb(x: float) -> str:
    return f"{x:.2f}"


def _load_note(r: dict) -> str:
    """The 1-minute load average before and after the scale's measurements (this benchmark's own work is
    in the second): more than the cores means other jobs shared the machine."""
    if "loadavg_start" not in r:
        return ""
    return f"; load average {r['loadavg_start']:.1f} before, {r['loadavg_end']:.1f} after"


def markdown(r: dict, meta: dict) -> str:
    g, scan, full, before, daily = (
        r.get("generator"),
        r["raw_scan"],
        r["full"],
        r["full_without_newest"],
        r["daily"],
    )
    one = r.get("one_full_run", False)
    m = meta["machine"]
    title = f"{g['rows']:,} rows, {g['days']} days" if g else f"the landing zone {r.get('zone')}"
    lines = [
        f"### Scale {r['scale']}: {title}",
        "",
        f"{meta['date']}, {m.get('cores')} cores ({m.get('cpu', '?')}), {m.get('ram_gb', '?')} GB RAM; "
        f"`{meta['command']}`{_load_note(r)}",
        "",
        "| figure | seconds | peak RSS GB | notes |",
        "|---|---:|---:|---|",
        *(
            [
                f"| generator (`insight-engine generate`) | {g['wall_s']:.1f} | {_gb(g['peak_rss_gb'])} | "
                f"{g['rows']:,} rows, {g['rows_per_s']:,} rows/s ({g['generate_s']:.1f} s without start-up) |"
            ]
            if g
            else []
        ),
        f"| raw-scan floor (DuckDB, every raw column once) | {scan['seconds']:.2f} | | "
        f"{scan['tables']} tables, {scan['columns']} columns, {scan['files']:,} files, "
        f"{scan['file_mb']:,} MB |",
        f"| full run (`run --full-refresh`{', every load but the newest' if one else ''}) | "
        f"{full['wall_s']:.1f} | {_gb(full['peak_rss_gb'])} | {full['floor_ratio']:,}x the raw-scan floor"
        f"{'; also the daily run starting point (`--one-full-run`)' if one else ''} |",
        *(
            []
            if one
            else [
                f"| full run without the newest load | {before['wall_s']:.1f} | "
                f"{_gb(before['peak_rss_gb'])} | the daily run's starting point |"
            ]
        ),
        f"| daily run (`run`, newest load added) | {daily['wall_s']:.1f} | {_gb(daily['peak_rss_gb'])} | "
        f"{daily['share_of_full']:.0%} of the full run; load {daily['newest_load']}: "
        f"{daily['newest_load_rows']:,} rows in {daily['newest_load_folders']} tables |",
    ]
    if "pandas_customer" in r:
        p = r["pandas_customer"]
        lines.append(
            f"| pandas fct_customer-like (raw files) | {p['wall_s']:.1f} | {_gb(p['peak_rss_gb'])} | "
            f"{p['seconds']:.1f} s of pandas work; {p['customers']:,} customers, {p['orders']:,} orders, "
            f"{p['nps_answers']:,} NPS answers; "
            f"the warehouse's dbt build {p['dbt_build_s']} s (fct_customer node "
            f"{p['fct_customer_node_s']:.1f} s, {p['fct_customer_rows']:,} rows) |"
        )
    if "spark" in r:
        s = r["spark"]
        lines.append(
            f"| dbt build on Spark `spark_local` | {s['spark_s']:.1f} | | DuckDB {s['duckdb_s']:.1f} s "
            f"in the same run: {s['ratio']}x |"
        )
    lines += [
        "",
        "| stage (wall s) | full run | "
        + ("" if one else "full without newest | ")
        + "daily run | daily / full |",
        "|---|---:|---:|" + ("" if one else "---:|") + "---:|",
    ]
    runs = (full, daily) if one else (full, before, daily)
    for stage in STAGES:
        vals = [x["stages"].get(stage) for x in runs]
        if all(v is None for v in vals):
            continue
        share = f"{vals[-1] / vals[0]:.0%}" if vals[0] and vals[-1] is not None else ""
        cells = " | ".join("" if v is None else f"{v:.1f}" for v in vals)
        lines.append(f"| {stage} | {cells} | {share} |")
    totals = " | ".join(f"{x['wall_s']:.1f}" for x in runs)
    lines.append(f"| **total** | {totals} | {daily['share_of_full']:.0%} |")
    kinds = ("model", "test", "unit_test", "seed", "snapshot")
    lines.append("")
    for label, x in (("full run", full), ("daily run", daily)):
        summed = ", ".join(f"{k} {x['node_seconds'][k]:.1f}" for k in kinds if k in x["node_seconds"])
        lines.append(f"- dbt node seconds summed, {label}: {summed}")
    for label, x in (("full run", full), ("daily run", daily)):
        nodes = ", ".join(f"`{n}` {sec:.1f}" for n, sec in x["slowest_nodes"][:5])
        lines.append(f"- slowest dbt nodes (s), {label}: {nodes}")
    for label, x in (("full run", full), ("daily run", daily)):
        if "peak_at" in x:  # figures written before the peak was located have none
            at = x["peak_at"]
            nodes = ", ".join(f"`{n}`" for n in at["dbt_nodes"]) or "none"
            lines.append(
                f"- peak RSS of the {label} ({_gb(x['peak_rss_gb'])} GB) at {at['seconds_into_run']:.0f} s, "
                f"stage {at['stage']}; dbt nodes running then: {nodes}"
            )
    return "\n".join(lines) + "\n"


def write_readme(scale: str, section: str) -> None:
    begin, end = f"<!-- bench-scale:{scale} -->", f"<!-- /bench-scale:{scale} -->"
    block = f"{begin}\n{section}{end}\n"
    text = README.read_text() if README.exists() else "# Benchmarks\n\n"
    pattern = re.compile(re.escape(begin) + r".*?" + re.escape(end) + r"\n?", re.S)
    text = pattern.sub(lambda _: block, text) if pattern.search(text) else text.rstrip("\n") + "\n\n" + block
    README.write_text(text)
    log.info("bench/README.md: section for scale %s written", scale)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scales", nargs="+", default=["m"], choices=list(SCALES))
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--days", type=int, default=None, help="days of history (default: the scale's)")
    parser.add_argument("--bad-rate", type=float, default=0.02, help="planted defects, as the other benches")
    parser.add_argument(
        "--pandas-customer", action="store_true", help="add the pandas fct_customer-like figure"
    )
    parser.add_argument("--spark", action="store_true", help="add a dbt build on Spark spark_local (slow)")
    parser.add_argument(
        "--work", type=Path, default=None, help="work folder (default: a temp folder, removed)"
    )
    parser.add_argument(
        "--one-full-run",
        action="store_true",
        help="one full run (every load but the newest), the daily run on top of it: the full figure is then "
        "one day short, and the scale takes one full run less (always so at l)",
    )
    parser.add_argument(
        "--zone",
        type=Path,
        default=None,
        help="an existing landing zone of the (single) scale: measure the runs without generating one; its "
        "newest load is moved out for the full run and put back",
    )
    parser.add_argument("--keep", action="store_true", help="keep each scale's zone and warehouses")
    parser.add_argument(
        "--keep-base",
        type=Path,
        default=None,
        help="copy the daily run's starting point (the warehouse folder without the newest load) here, "
        "before the daily run changes it: the base of later `bench/daily_settings.py` runs (one scale)",
    )
    parser.add_argument("--json", type=Path, default=None, help="write every figure to this JSON file")
    parser.add_argument(
        "--write-readme", action="store_true", help="put each scale's section in bench/README.md"
    )
    parser.add_argument("--pandas-worker", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.zone is not None and (len(args.scales) != 1 or args.write_readme):
        parser.error("--zone takes one scale and no --write-readme (a README section needs the generator)")
    if args.keep_base is not None and (len(args.scales) != 1 or args.keep_base.exists()):
        parser.error("--keep-base takes one scale and a folder that does not exist yet")
    if args.pandas_worker is not None:  # the child process of --pandas-customer
        print(json.dumps(pandas_customer(args.pandas_worker)))
        return
    setup_logging()
    meta = {
        "machine": machine(),
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "command": "python bench/scale.py " + shlex.join(sys.argv[1:]),
    }
    log.info("machine: %s", meta["machine"])
    root = args.work or Path(tempfile.mkdtemp(prefix="insight-bench-scale-"))
    results: dict = {**meta, "scales": {}}
    try:
        for scale in args.scales:

            def save(out: dict, scale: str = scale) -> None:
                if args.json:  # what a scale has measured so far, should a long run be stopped
                    args.json.parent.mkdir(parents=True, exist_ok=True)
                    partial = {**results, "scales": {**results["scales"], scale: out}}
                    args.json.write_text(json.dumps(partial, indent=2, default=str))

            r = bench_scale(scale, root / scale, args, save)
            results["scales"][scale] = r
            section = markdown(r, meta)
            print("\n" + section, flush=True)
            if args.write_readme:
                write_readme(scale, section)
            if args.json:
                args.json.parent.mkdir(parents=True, exist_ok=True)
                args.json.write_text(json.dumps(results, indent=2, default=str))
            if not args.keep:
                shutil.rmtree(root / scale, ignore_errors=True)
    finally:
        if args.work is None and not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    log.info("done%s", f"; figures in {args.json}" if args.json else "")


if __name__ == "__main__":
    main()
