"""Benchmark: the facts incremental by key vs rebuilt whole, on a daily load (DuckDB, one run).

The facts (macros/utils/incremental_by_key.sql): the web sessions (by device), the allocated order
lines (by order), the identity links (by component), the journey events (by event), and the journey
and order-line marts (by row, hashed as built). Over a landing zone (generated here at `--scale`, or an
existing one with `--zone`, e.g. scale l's):

1. the newest load is moved aside; the facts and everything upstream are built over the other loads;
2. the newest load is put back; everything upstream of the facts runs again (incremental by load);
3. the warehouse is copied; for each fact, on one copy it runs incrementally (by key), on the other it is
   rebuilt whole (`--full-refresh`), back to back, each `dbt run` a child process (wall time, peak RSS
   of its process tree); then a run with nothing new;
4. the two tables must hold the same rows (`except all` both ways, the engine's fingerprint included).

    .venv/bin/python bench/incremental_facts.py --scale s
    .venv/bin/python bench/incremental_facts.py --zone /path/to/scale-l/raw   # about 20 min at l
    .venv/bin/python bench/incremental_facts.py --scale m --model int_order_lines_allocated
"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import duckdb
from _common import measure, setup_logging
from scale import child_env, hold_back_newest, put_back

from insight_engine.generate import generate

log = logging.getLogger("bench.incremental_facts")
PROJECT_DIR = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Fact:
    key: str
    unit: str  # what a key is, for the log line
    touched_sql: str  # keys with input rows in the newest load (one `?`: the load date)
    schema: str = "intermediate"


FACTS = {
    "int_web_sessions_sessionised": Fact(
        "anonymous_id",
        "devices",
        "select count(distinct anonymous_id) from staging.base_web__events where load_date = $1",
    ),
    "int_order_lines_allocated": Fact(
        "order_id",
        "orders",
        "select count(distinct order_id) from (select order_id from staging.base_commerce__orders "
        "where load_date = $1 union all select order_id from staging.base_commerce__order_lines "
        "where load_date = $1)",
    ),
    # identities the newest load delivers rows of (survey responses without an invitation left out)
    "int_identities_linked": Fact(
        "identity_id",
        "identities",
        "select count(*) from ("
        "select 'crm:' || crm_customer_id from staging.base_crm__customers where load_date = $1 union "
        "select 'commerce:' || shop_customer_id from staging.base_commerce__customers where load_date = $1 "
        "union select 'survey:' || invitation_id from staging.base_survey__invitations where load_date = $1 "
        "union select 'web:' || anonymous_id from staging.base_web__events "
        "where load_date = $1 and user_email is not null)",
    ),
    # source rows of the newest load the events are made of (devices for sessions: a device's sessions
    # are rebuilt upstream, its events written here only where a session changed)
    "int_journey_events_unioned": Fact(
        "event_key",
        "events",
        "select count(*) from ("
        "select order_id from staging.base_commerce__orders where load_date = $1 union all "
        "select case_id from staging.base_crm__cases where load_date = $1 union all "
        "select interaction_id from staging.base_crm__interactions where load_date = $1 union all "
        "select response_id from staging.base_survey__responses where load_date = $1 union all "
        "select distinct anonymous_id from staging.base_web__events where load_date = $1)",
    ),
}
# the marts over two of them, incremental by row on DuckDB (no fingerprint column: hashed as built)
FACTS["fct_journey_events"] = Fact(
    "event_key", "events", FACTS["int_journey_events_unioned"].touched_sql, schema="core"
)
FACTS["fct_order_lines"] = Fact(
    "order_line_key",
    "order lines",
    "select count(*) from staging.base_commerce__order_lines where load_date = $1",
    schema="core",
)


def dbt(work: Path, zone: Path, warehouse: Path, name: str, *args: str, command: str = "run") -> dict:
    env = {**child_env(work), "RAW_ROOT": str(zone), "INSIGHT_WAREHOUSE": str(warehouse)}
    cmd = [str(Path(sys.executable).parent / "dbt"), command, "-q", *args, "--target-path", str(work / name)]
    m = measure(cmd, env=env, cwd=PROJECT_DIR)
    if m.returncode != 0:
        raise SystemExit(f"{name} failed:\n{m.stdout[-3000:]}\n{m.stderr[-3000:]}")
    results = json.loads((work / name / "run_results.json").read_text())["results"]
    # the nodes' own seconds (the model's SQL and hooks), without dbt's start-up and parsing
    node_s = sum(r["execution_time"] for r in results)
    log.info("%s: %.1f s (nodes %.1f s), peak RSS %.2f GB", name, m.wall_s, node_s, m.peak_rss_gb)
    return {"wall_s": round(m.wall_s, 2), "node_s": round(node_s, 2), "peak_rss_gb": round(m.peak_rss_gb, 3)}


def compare(incremental: Path, whole: Path, model: str, newest: str) -> dict:
    """The fact's rows on both copies (must be equal) and its size."""
    fact = FACTS[model]
    with duckdb.connect(str(incremental), read_only=True) as con:
        con.execute(f"attach '{whole}' as whole_build (read_only)")
        table = f"{fact.schema}.{model}"
        query = "select count(*) from (select * from {} except all select * from {})"
        differ = sum(
            con.execute(query.format(a, b)).fetchone()[0]
            for a, b in ((table, f"whole_build.{table}"), (f"whole_build.{table}", table))
        )
        rows, keys = con.execute(f"select count(*), count(distinct {fact.key}) from {table}").fetchone()
        (touched,) = con.execute(fact.touched_sql, [newest]).fetchone()
    if differ:
        raise SystemExit(f"the incremental {model} differs from the rebuilt one in {differ} rows")
    return {"rows": rows, "keys": keys, "keys_in_newest_load": touched}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scale", default="s", choices=["xs", "s", "m", "l"])
    parser.add_argument(
        "--zone", type=Path, help="an existing landing zone (its newest load is moved and put back)"
    )
    parser.add_argument(
        "--model", action="append", choices=sorted(FACTS), help="a fact to measure (repeat; default: all)"
    )
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    setup_logging()
    models = args.model or list(FACTS)
    upstream = " ".join(f"+{m}" for m in models)

    with tempfile.TemporaryDirectory(prefix="insight-bench-facts-") as tmp:
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
            dbt(work, zone, incremental, "yesterday", "-s", upstream)
        finally:
            put_back(zone, work / "held_back", moved)
        dbt(work, zone, incremental, "upstream_today", "-s", upstream, "--exclude", *models)
        shutil.copy(incremental, whole)
        out: dict = {"newest_load": newest, "newest_load_rows": rows, "facts": {}}
        for model in models:
            figures = {
                "incremental": dbt(work, zone, incremental, f"{model}_incremental", "-s", model),
                "rebuilt_whole": dbt(work, zone, whole, f"{model}_whole", "-s", model, "--full-refresh"),
                "nothing_new": dbt(work, zone, incremental, f"{model}_nothing_new", "-s", model),
            }
            figures.update(compare(incremental, whole, model, newest))
            for kind in ("wall_s", "node_s"):
                figures[f"ratio_whole_to_incremental_{kind}"] = round(
                    figures["rebuilt_whole"][kind] / figures["incremental"][kind], 2
                )
            out["facts"][model] = figures
            log.info(
                "%s: %s rows of %s %s (%s in the newest load): rebuilt whole %.1f s, incremental %.1f s "
                "(%.2fx; the node alone %.1f s vs %.1f s, %.2fx), nothing new %.1f s; identical rows",
                model,
                f"{figures['rows']:,}",
                f"{figures['keys']:,}",
                FACTS[model].unit,
                f"{figures['keys_in_newest_load']:,}",
                figures["rebuilt_whole"]["wall_s"],
                figures["incremental"]["wall_s"],
                figures["ratio_whole_to_incremental_wall_s"],
                figures["rebuilt_whole"]["node_s"],
                figures["incremental"]["node_s"],
                figures["ratio_whole_to_incremental_node_s"],
                figures["nothing_new"]["wall_s"],
            )
    print(json.dumps(out, indent=2))
    if args.json:
        args.json.write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
