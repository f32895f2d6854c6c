"""Run dbt in-process (dbtRunner) against a given landing zone and warehouse file."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from dbt.cli.main import dbtRunner

log = logging.getLogger(__name__)

PROJECT_DIR = Path(__file__).resolve().parents[1]


@dataclass
class DbtResult:
    success: bool
    failures: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)


@contextmanager
def _env(values: dict[str, str]) -> Iterator[None]:
    old = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _release_duckdb() -> None:
    """dbt-duckdb caches its database handle per process; close it so that this process (publish,
    gates, tests) can open the warehouse file again with its own settings."""
    try:
        from dbt.adapters.duckdb.connections import DuckDBConnectionManager
    except ImportError:  # pragma: no cover - adapter not installed
        return
    with DuckDBConnectionManager._LOCK:
        env = DuckDBConnectionManager._ENV
        if env is not None:
            try:
                env.close()
            finally:
                DuckDBConnectionManager._ENV = None


def run_dbt(
    args: list[str],
    *,
    raw_root: Path | str,
    warehouse: Path,
    target_path: Path | None = None,
    target: str = "duckdb",
    extra_env: dict[str, str] | None = None,
    callbacks: list[Callable] | None = None,
    console_log_level: str | None = None,
) -> DbtResult:
    """Invoke ``dbt <args>`` for this project; returns success and the names of failed nodes.

    ``target`` is a profiles.yml output: ``duckdb`` (default), ``spark_local`` or ``spark_cluster``. Spark
    reads the landing zone as path relations, so RAW_ROOT is passed absolute; ``spark_local`` keeps its
    warehouse and Derby metastore under SPARK_BUILD_DIR (default ``<project>/build/spark``). A ``raw_root``
    string with a scheme (``s3a://...``, ``dbfs:/...``) is passed to Spark as it is.

    ``callbacks`` receive every dbt event (``dbtRunner(callbacks=...)``); ``console_log_level`` (``none``,
    ``warn`` ...) quiets dbt's console output, its file log ``logs/dbt.log`` keeps everything.
    """
    raw = str(raw_root)
    is_url = isinstance(raw_root, str) and ("://" in raw or raw.startswith("dbfs:"))
    env = {
        "RAW_ROOT": raw if is_url else str(Path(raw_root).resolve()),
        "INSIGHT_WAREHOUSE": str(Path(warehouse).resolve()),
        "DBT_TARGET": target,
        "TZ": "UTC",
        **(extra_env or {}),
    }
    if target.startswith("spark"):
        build_dir = env.get("SPARK_BUILD_DIR") or os.environ.get("SPARK_BUILD_DIR") or "build/spark"
        env["SPARK_BUILD_DIR"] = str((PROJECT_DIR / build_dir).resolve())
    Path(warehouse).parent.mkdir(parents=True, exist_ok=True)
    cli = [
        *args,
        "--project-dir",
        str(PROJECT_DIR),
        "--profiles-dir",
        str(PROJECT_DIR),
    ]
    if target_path is not None:
        cli += ["--target-path", str(target_path)]
    if console_log_level is not None:
        cli += ["--log-level", console_log_level]
    log.info("dbt %s (raw=%s, warehouse=%s)", " ".join(args), env["RAW_ROOT"], env["INSIGHT_WAREHOUSE"])
    with _env(env):
        try:
            runner = dbtRunner(callbacks=callbacks) if callbacks else dbtRunner()
            res = runner.invoke(cli)
        finally:
            _release_duckdb()
    failures: list[str] = []
    counts: dict[str, int] = {}
    results = getattr(res.result, "results", None) or []
    for r in results:
        status = str(r.status)
        counts[status] = counts.get(status, 0) + 1
        if status in {"error", "fail", "runtime error"}:
            failures.append(f"{r.node.unique_id}: {r.message}")
    if res.exception is not None:
        failures.append(f"dbt raised: {res.exception}")
    return DbtResult(success=bool(res.success), failures=failures, counts=counts)
