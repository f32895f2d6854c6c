"""The scheduled job: raw gate -> dbt build (with its tests) -> mart gate -> publish, logged per run."""

from __future__ import annotations

import json
import logging
import re
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Literal

from insight_engine import duck, gated, ledger, runlog
from insight_engine import publish as pub
from insight_engine.exitcodes import ExitCode, for_failed_gate
from insight_engine.inputs import check_dbt_vars, check_path, check_run_id

log = logging.getLogger(__name__)

DbtLog = Literal["console", "quiet", "events"]
# A daily run leaves out dbt's unit tests: their inputs are static fixtures, so they prove the SQL, not the
# day's data; CI (`make test`) and every --full-refresh run them (DECISIONLOG.md, "Unit tests in the
# daily run")
UNIT_TESTS_OFF = ["--exclude-resource-type", "unit_test"]
_LOAD_DIR = re.compile(r"^load_date=(\d{4}-\d{2}-\d{2})$")


@dataclass(frozen=True)
class Paths:
    """Where a run reads and writes; defaults follow the README."""

    raw_root: Path = Path("data/raw")
    build_warehouse: Path = Path("warehouse/insight_engine.duckdb")
    serving: Path = Path("warehouse/serving.duckdb")
    publish_log: Path = Path("warehouse/publish_log.duckdb")
    gates_dir: Path = Path("build/gates")
    target_path: Path = Path("target")
    published_dir: Path | None = None  # Parquet versions; None: `published/` beside the serving file

    def publish(
        self, run_id: str, keep_versions: int = pub.DEFAULT_KEEP_VERSIONS, *, reuse: bool = True
    ) -> pub.PublishResult:
        """Publish the build warehouse to the serving file and a Parquet version (no gates here); ``reuse``:
        write only what changed since the current serving file and version (False: write everything)."""
        return pub.publish(
            self.build_warehouse,
            self.serving,
            run_id=run_id,
            publish_log=self.publish_log,
            published_dir=self.published_dir,
            keep_versions=keep_versions,
            reuse=reuse,
        )


@dataclass
class RunResult:
    run_id: str
    published: bool
    failed_gate: str | None = None
    message: str = ""
    gates: dict[str, dict] = field(default_factory=dict)
    row_counts: dict[str, int] = field(default_factory=dict)
    version_dir: Path | None = None
    seconds: float = 0.0

    @property
    def exit_code(self) -> ExitCode:
        return ExitCode.OK if self.published else for_failed_gate(self.failed_gate)


def landing_load_dates(raw_root: Path) -> set[date]:
    """Every load date that has a folder ``<system>/<table>/load_date=YYYY-MM-DD`` in the landing zone."""
    found: set[date] = set()
    for folder in Path(raw_root).glob("*/*/load_date=*"):
        m = _LOAD_DIR.match(folder.name)
        if m and folder.is_dir():
            try:
                found.add(date.fromisoformat(m.group(1)))
            except ValueError:
                continue
    return found


def load_selection_vars(since: date | None, load_date: date | None) -> dict[str, str]:
    """dbt vars for the loads the incremental models rewrite (macros/staging/incremental_by_load.sql)."""
    if since is not None and load_date is not None:
        raise ValueError("--since and --load-date exclude each other: pass one")
    if load_date is not None:
        return {"incremental_from_load_date": str(load_date), "incremental_to_load_date": str(load_date)}
    if since is not None:
        return {"incremental_from_load_date": str(since)}
    return {}


class DbtObserver:
    """dbt event callback: counts finished nodes for the progress line and logs each node as an event."""

    def __init__(self, mode: DbtLog) -> None:
        self.mode = mode
        self.done = 0
        self.total = 0

    def __call__(self, msg: Any) -> None:
        name = msg.info.name
        if name == "LogStartLine" and not self.total:
            self.total = int(msg.data.total)
            runlog.event(
                "dbt_build",
                "nodes_planned",
                f"dbt: {self.total} nodes",
                level=logging.DEBUG,
                nodes_total=self.total,
                nodes_done=self.done,
            )
        elif name == "NodeFinished":
            self.done += 1
            info, result = msg.data.node_info, msg.data.run_result
            status = str(result.status or info.node_status)
            level = logging.DEBUG
            if status in {"error", "fail", "runtime error"}:
                level = logging.ERROR
            elif status == "warn":
                level = logging.WARNING
            elif self.mode == "events" and info.resource_type in {"model", "seed", "snapshot"}:
                level = logging.INFO
            fields: dict[str, Any] = {
                "table": info.node_name,
                "resource_type": info.resource_type,
                "status": status,
                "seconds": round(float(result.execution_time or 0.0), 3),
                "nodes_done": self.done,
                "nodes_total": self.total,
            }
            try:
                rows = dict(result.adapter_response).get("rows_affected")
            except (TypeError, ValueError):
                rows = None
            if rows not in (None, -1):
                fields["rows"] = rows
            runlog.event(
                "dbt_build",
                "node_finished",
                f"{info.resource_type} {info.node_name}: {status} ({fields['seconds']}s)",
                level=level,
                **fields,
            )


def _gate(
    stage: str, paths: Paths, *, regate_all: bool = False, landing: dict[str, list] | None = None
) -> tuple[bool, dict]:
    from insight_engine.validate import validate  # GX is heavy: import only when a gate runs

    started = time.perf_counter()
    result = validate(
        stage,
        raw_root=paths.raw_root,
        warehouse=paths.build_warehouse,
        out_dir=paths.gates_dir,
        # the raw gate reads only loads it has not validated before (--full-refresh: all)
        gated_loads=paths.build_warehouse.with_name(gated.STATE_NAME) if stage == "raw" else None,
        regate_all=regate_all,
        landing=landing,
    )
    summary = {
        "success": result.success,
        "seconds": round(time.perf_counter() - started, 2),
        "failed": list(result.failures),
        "reported": len(result.reported),
    }
    if stage == "raw":
        summary["rows"] = sum(t.rows or 0 for t in result.tables)
        summary["rows_read"] = sum(t.rows_read or 0 for t in result.tables)
    return bool(result.success), summary


def _check_landing_zone(raw_root: Path, since: date | None, load_date: date | None) -> str | None:
    """What is missing for this run, or None."""
    if not Path(raw_root).exists():
        return (
            f"landing zone {raw_root} does not exist: point --raw-root at it "
            "(or run `insight-engine generate`)"
        )
    if since is None and load_date is None:
        return None
    loads = landing_load_dates(raw_root)
    if load_date is not None and load_date not in loads:
        newest = max(loads) if loads else None
        return (
            f"no load {load_date} in {raw_root} (no folder */*/load_date={load_date}; "
            f"newest load: {newest}): the export for that day has not landed yet (rerun when it has) "
            "or the date is wrong"
        )
    if since is not None and not any(d >= since for d in loads):
        newest = max(loads) if loads else None
        return (
            f"no load on or after {since} in {raw_root} (newest load: {newest}): nothing to process; "
            "check the date"
        )
    return None


def run(
    paths: Paths,
    *,
    full_refresh: bool = False,
    gates: bool = True,
    dbt_vars: dict | None = None,
    run_id: str | None = None,
    since: date | None = None,
    load_date: date | None = None,
    keep_versions: int = pub.DEFAULT_KEEP_VERSIONS,
    dbt_log: DbtLog = "console",
) -> RunResult:
    """Build, audit and (only if every gate passed) publish. Never touches serving on failure.

    ``since`` / ``load_date`` choose the loads the incremental models rewrite (README, "The scheduled
    job"); ``dbt_log`` says who reports dbt's nodes: dbt's own console lines, only its warnings (a
    progress line shows the counts), or this package's events (JSON logs).
    """
    run_id = check_run_id(run_id or pub.new_run_id())
    for what, path in [
        ("raw root", paths.raw_root),
        ("build warehouse", paths.build_warehouse),
        ("serving file", paths.serving),
        ("publish log", paths.publish_log),
        ("gates folder", paths.gates_dir),
        ("dbt target path", paths.target_path),
    ]:
        check_path(path, what)
    check_dbt_vars(dict(dbt_vars or {}))
    started = datetime.now(UTC)
    clock = time.perf_counter()
    result = RunResult(run_id=run_id, published=False)
    if full_refresh and (since is not None or load_date is not None):
        raise ValueError(
            "--full-refresh reads every load; --since/--load-date choose loads for an incremental run: "
            "pass one or the other"
        )
    selection = load_selection_vars(since, load_date)
    runlog.event(
        "run",
        "run_started",
        f"run {run_id}: raw {paths.raw_root} -> {paths.serving}"
        + (f" (loads {selection})" if selection else "")
        + (" (full refresh)" if full_refresh else ""),
        raw_root=str(paths.raw_root),
        serving=str(paths.serving),
        full_refresh=full_refresh,
        since=str(since) if since else None,
        load_date=str(load_date) if load_date else None,
    )

    def record(outcome: str, gate: str | None, message: str, row_counts: dict[str, int]) -> None:
        pub.record_run(
            paths.publish_log,
            run_id=run_id,
            started_at=started,
            raw_root=paths.raw_root,
            outcome=outcome,
            failed_gate=gate,
            message=message,
            gates=result.gates,
            row_counts=row_counts,
        )

    def finish() -> RunResult:
        result.seconds = round(time.perf_counter() - clock, 2)
        code = result.exit_code
        runlog.event(
            "run",
            "run_finished",
            f"run {run_id} published {len(result.row_counts)} tables to {paths.serving} in {result.seconds}s"
            if result.published
            else f"run {run_id} ended at {result.failed_gate} after {result.seconds}s (exit {int(code)})",
            level=logging.INFO if result.published else logging.ERROR,
            exit_code=int(code),
            published=result.published,
            failed_gate=result.failed_gate,
            seconds=result.seconds,
        )
        return result

    def fail(gate: str, message: str) -> RunResult:
        result.failed_gate, result.message = gate, message
        runlog.event(
            gate,
            "stage_failed",
            f"run {run_id} stopped at {gate}: {message}; serving left as it was ({paths.serving})",
            level=logging.ERROR,
            failed_gate=gate,
            error=message,
        )
        record("failed", gate, message, {})
        return finish()

    def stage_done(stage: str, summary: dict, message: str) -> None:
        runlog.event(
            stage,
            "stage_finished",
            message,
            level=logging.INFO if summary["success"] else logging.ERROR,
            **{k: v for k, v in summary.items() if k != "failed"},
            failed=summary.get("failed", [])[:20],
        )

    for note in pub.recover(
        paths.serving, paths.publish_log, paths.published_dir, by_run=f"run {run_id}"
    ):  # what a killed run left: the caller holds the run lock, so no live run owns it
        runlog.event("run", "recovered", note, level=logging.WARNING)
    missing = _check_landing_zone(paths.raw_root, since, load_date)
    if missing:
        return fail("landing_zone", missing)

    def stage_started(stage: str, message: str) -> None:
        # the log names the stage a run is in, so that a run killed there is reported as such
        record("running", stage, f"in {stage}", {})
        runlog.event(stage, "stage_started", message)

    ledger_path = paths.build_warehouse.with_name(ledger.LEDGER_NAME)
    landing = ledger.compare(paths.raw_root, ledger_path)  # hashes only new or touched files
    if gates:
        stage_started("raw_gate", f"raw gate over {paths.raw_root}")
        ok, summary = _gate("raw", paths, regate_all=full_refresh, landing=landing.fingerprints)
        result.gates["raw_gate"] = summary
        stage_done(
            "raw_gate",
            summary,
            f"raw gate {'passed' if ok else 'failed'} in {summary['seconds']}s "
            f"(read {summary['rows_read']:,} of {summary['rows']:,} rows: the loads not gated before)",
        )
        if not ok:
            return fail("raw_gate", f"raw gate failed: {summary['failed'][:5]} (see {paths.gates_dir})")
    from insight_engine.dbt import run_dbt  # dbt is slow to import: a locked run exits before it

    if landing.removed:
        runlog.event(
            "run",
            "loads_removed",
            f"{len(landing.removed)} load folder(s) built before are gone from the landing zone "
            f"({', '.join(landing.removed[:5])}): their rows stay in the warehouse until a run with "
            "--full-refresh",
            level=logging.WARNING,
            removed=landing.removed[:50],
        )
    redelivered = landing.rewrite_from if not full_refresh else None
    chosen = since if since is not None else load_date
    if redelivered is not None and (chosen is None or redelivered < chosen):
        # a load corrected after later days: rewrite from it (what --since would), else the incremental
        # models would keep its old rows while every other model reads the new ones
        since, load_date = redelivered, None
        selection = load_selection_vars(since, None)
        runlog.event(
            "run",
            "loads_redelivered",
            f"{len(landing.changed)} load folder(s) changed since they were built "
            f"({', '.join(landing.changed[:5])}): the incremental models rewrite every load from {since}",
            level=logging.WARNING,
            changed=landing.changed[:50],
            since=str(since),
        )

    stage_started("dbt_build", "dbt build" + (" --full-refresh" if full_refresh else ""))
    t = time.perf_counter()
    args = ["build"] + (["--full-refresh"] if full_refresh else UNIT_TESTS_OFF)
    all_vars = {**(dbt_vars or {}), **selection}
    if all_vars:
        args += ["--vars", json.dumps(all_vars)]
    observer = DbtObserver(dbt_log)
    threads, threads_reason = duck.dbt_threads(paths.build_warehouse)
    runlog.event(
        "dbt_build", "dbt_threads", f"dbt runs {threads} node(s) at once: {threads_reason}", threads=threads
    )
    built = run_dbt(
        args,
        raw_root=paths.raw_root,
        warehouse=paths.build_warehouse,
        target_path=paths.target_path,
        extra_env={duck.DBT_THREADS_ENV: str(threads)},
        callbacks=[observer],
        console_log_level={"console": None, "quiet": "warn", "events": "none"}[dbt_log],
    )
    result.gates["dbt_build"] = {
        "success": built.success,
        "seconds": round(time.perf_counter() - t, 2),
        "threads": threads,
        "counts": built.counts,
        "failed": built.failures[:20],
    }
    stage_done(
        "dbt_build",
        result.gates["dbt_build"],
        f"dbt build {'passed' if built.success else 'failed'} in {result.gates['dbt_build']['seconds']}s: "
        f"{built.counts}",
    )
    if not built.success:
        return fail("dbt_build", "dbt build failed: " + "; ".join(built.failures[:5]))
    ledger.write(ledger_path, landing.fingerprints)  # what the build warehouse now holds
    if gates:
        stage_started("mart_gate", f"mart gate over {paths.build_warehouse}")
        ok, summary = _gate("marts", paths)
        result.gates["mart_gate"] = summary
        stage_done("mart_gate", summary, f"mart gate {'passed' if ok else 'failed'} in {summary['seconds']}s")
        if not ok:
            return fail("mart_gate", f"mart gate failed: {summary['failed'][:5]} (see {paths.gates_dir})")
    runlog.event("publish", "stage_started", f"publishing to {paths.serving}")
    try:
        # logged before the copy so that the serving file's ops.publish_log includes this run (the copy
        # says 'published'; here it stays 'publishing' until the rename, see publish.recover)
        record("publishing", "publish", "all gates passed", {})
        published = paths.publish(run_id, keep_versions, reuse=not full_refresh)
    except Exception as exc:
        return fail("publish", f"{type(exc).__name__}: {exc}")
    result.published = True
    result.row_counts = published.row_counts
    result.version_dir = published.version_dir
    result.message = "all gates passed"
    record("published", None, result.message, published.row_counts)
    return finish()
