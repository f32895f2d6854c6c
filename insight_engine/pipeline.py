"""The scheduled job: raw gate -> dbt build (with its tests) -> mart gate -> publish, logged per run."""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from insight_engine import publish as pub
from insight_engine.dbt import run_dbt

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Paths:
    """Where a run reads and writes; defaults follow the README."""

    raw_root: Path = Path("data/raw")
    build_warehouse: Path = Path("warehouse/insight_engine.duckdb")
    serving: Path = Path("warehouse/serving.duckdb")
    publish_log: Path = Path("warehouse/publish_log.duckdb")
    gates_dir: Path = Path("build/gates")
    target_path: Path = Path("target")


@dataclass
class RunResult:
    run_id: str
    published: bool
    failed_gate: str | None = None
    message: str = ""
    gates: dict[str, dict] = field(default_factory=dict)
    row_counts: dict[str, int] = field(default_factory=dict)


def _gate(stage: str, paths: Paths) -> tuple[bool, dict]:
    from insight_engine.validate import validate  # GX is heavy: import only when a gate runs

    started = time.perf_counter()
    result = validate(
        stage, raw_root=paths.raw_root, warehouse=paths.build_warehouse, out_dir=paths.gates_dir
    )
    summary = {
        "success": result.success,
        "seconds": round(time.perf_counter() - started, 2),
        "failed": list(result.failures),
        "reported": len(result.reported),
    }
    return bool(result.success), summary


def run(
    paths: Paths, *, full_refresh: bool = False, gates: bool = True, dbt_vars: dict | None = None
) -> RunResult:
    """Build, audit and (only if every gate passed) publish. Never touches serving on failure."""
    run_id = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    started = datetime.now(UTC)
    result = RunResult(run_id=run_id, published=False)

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

    def fail(gate: str, message: str) -> RunResult:
        result.failed_gate, result.message = gate, message
        log.error(
            "run %s stopped at %s: %s; serving left as it was (%s)", run_id, gate, message, paths.serving
        )
        record("failed", gate, message, {})
        return result

    if not Path(paths.raw_root).exists():
        return fail(
            "raw_gate", f"landing zone {paths.raw_root} does not exist: run `insight-engine generate`"
        )
    if gates:
        ok, summary = _gate("raw", paths)
        result.gates["raw_gate"] = summary
        if not ok:
            return fail("raw_gate", f"raw gate failed: {summary['failed'][:5]} (see {paths.gates_dir})")
    t = time.perf_counter()
    args = ["build"] + (["--full-refresh"] if full_refresh else [])
    if dbt_vars:
        args += ["--vars", json.dumps(dbt_vars)]
    built = run_dbt(
        args, raw_root=paths.raw_root, warehouse=paths.build_warehouse, target_path=paths.target_path
    )
    result.gates["dbt_build"] = {
        "success": built.success,
        "seconds": round(time.perf_counter() - t, 2),
        "counts": built.counts,
        "failed": built.failures[:20],
    }
    if not built.success:
        return fail("dbt_build", "dbt build failed: " + "; ".join(built.failures[:5]))
    if gates:
        ok, summary = _gate("marts", paths)
        result.gates["mart_gate"] = summary
        if not ok:
            return fail("mart_gate", f"mart gate failed: {summary['failed'][:5]} (see {paths.gates_dir})")
    try:
        # logged before the copy so that the serving file's ops.publish_log includes this run
        record("published", None, "all gates passed", {})
        published = pub.publish(
            paths.build_warehouse, paths.serving, run_id=run_id, publish_log=paths.publish_log
        )
    except Exception as exc:
        return fail("publish", f"{type(exc).__name__}: {exc}")
    result.published = True
    result.row_counts = published.row_counts
    result.message = "all gates passed"
    record("published", None, result.message, published.row_counts)
    log.info("run %s published %d tables to %s", run_id, len(published.row_counts), paths.serving)
    return result
