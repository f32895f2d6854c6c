"""Write-audit-publish: copy the audited marts into a new serving file and swap it in atomically.

BI tools read ``serving.duckdb``; they never see the build warehouse. A new serving file is written next
to the old one (attached with an explicit ``STORAGE_VERSION`` so DuckDB 1.x readers embedded in BI drivers
can open it) and moved over it with ``os.replace``: readers see the old file or the new one, never half.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb

log = logging.getLogger(__name__)

# Schemas BI may read. Staging and quarantine hold PII and raw text: never published.
SERVING_SCHEMAS: tuple[str, ...] = ("core", "rox", "quality")
# Oldest storage format that the DuckDB 1.x readers in current BI drivers open.
SERVING_STORAGE_VERSION = "v1.0.0"

LOG_DDL = """
create table if not exists publish_log (
    run_id varchar primary key,
    started_at timestamp,
    finished_at timestamp,
    raw_root varchar,
    outcome varchar,          -- published | failed
    failed_gate varchar,      -- raw_gate | dbt_build | mart_gate | publish | null
    message varchar,
    gates json,
    row_counts json
)
"""


@dataclass
class PublishResult:
    serving: Path
    row_counts: dict[str, int] = field(default_factory=dict)


def _q(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def publishable_tables(con: duckdb.DuckDBPyConnection, catalog: str) -> list[tuple[str, str]]:
    schemas = ", ".join(f"'{s}'" for s in SERVING_SCHEMAS)
    return con.execute(
        f"""
        select table_schema, table_name
        from information_schema.tables
        where table_catalog = '{catalog}' and table_schema in ({schemas})
        order by 1, 2
        """
    ).fetchall()


def publish(
    build_warehouse: Path,
    serving: Path,
    *,
    run_id: str,
    publish_log: Path | None = None,
) -> PublishResult:
    """Copy every table of the serving schemas from ``build_warehouse`` to ``serving``, atomically."""
    build_warehouse, serving = Path(build_warehouse), Path(serving)
    if not build_warehouse.exists():
        raise FileNotFoundError(
            f"build warehouse {build_warehouse} does not exist: run `insight-engine build`"
        )
    serving.parent.mkdir(parents=True, exist_ok=True)
    tmp = serving.with_name(f".{serving.name}.{run_id}.tmp")
    tmp.unlink(missing_ok=True)
    result = PublishResult(serving=serving)
    con = duckdb.connect()
    try:
        con.execute(f"attach '{build_warehouse}' as src (read_only)")
        con.execute(f"attach '{tmp}' as dst (storage_version '{SERVING_STORAGE_VERSION}')")
        tables = publishable_tables(con, "src")
        if not tables:
            raise RuntimeError(
                f"nothing to publish: {build_warehouse} has no tables in schemas {', '.join(SERVING_SCHEMAS)}"
            )
        for schema, table in tables:
            con.execute(f"create schema if not exists dst.{_q(schema)}")
            con.execute(
                f"create table dst.{_q(schema)}.{_q(table)} as select * from src.{_q(schema)}.{_q(table)}"
            )
            (n,) = con.execute(f"select count(*) from dst.{_q(schema)}.{_q(table)}").fetchone()
            result.row_counts[f"{schema}.{table}"] = int(n)
        if publish_log is not None and Path(publish_log).exists():
            con.execute(f"attach '{publish_log}' as ops_log (read_only)")
            con.execute("create schema if not exists dst.ops")
            con.execute("create table dst.ops.publish_log as select * from ops_log.publish_log")
        con.execute("detach dst")
    finally:
        con.close()
    os.replace(tmp, serving)
    log.info("published %d tables to %s (run %s)", len(result.row_counts), serving, run_id)
    return result


def record_run(
    publish_log: Path,
    *,
    run_id: str,
    started_at: datetime,
    raw_root: Path,
    outcome: str,
    failed_gate: str | None,
    message: str,
    gates: dict,
    row_counts: dict[str, int],
) -> None:
    """Append one row per run (published or failed) to the publish log (its own DuckDB file)."""
    Path(publish_log).parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(publish_log)) as con:
        con.execute(LOG_DDL)
        con.execute(
            "insert or replace into publish_log values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                run_id,
                started_at.replace(tzinfo=None),
                datetime.now(UTC).replace(tzinfo=None),
                str(raw_root),
                outcome,
                failed_gate,
                message,
                json.dumps(gates, default=str),
                json.dumps(row_counts),
            ],
        )
