"""Write-audit-publish: copy the audited marts into a new serving file and swap it in atomically.

BI tools read ``serving.duckdb``; they never see the build warehouse. A new serving file is written next
to the old one (attached with an explicit ``STORAGE_VERSION`` so DuckDB 1.x readers embedded in BI drivers
can open it) and moved over it with ``os.replace``: readers see the old file or the new one, never half.
A reader that has the old file open keeps reading it (the rename does not touch its inode); the publisher
never opens ``serving.duckdb`` itself, so no reader ever meets a lock.

The same tables are exported as Parquet, one folder per version::

    published/<run_id>/<schema>/<table>.parquet
    published/<run_id>/manifest.json      tables, rows, columns, sha256 per file, content checksum
    published/CURRENT                     the current run id (replaced with one rename)
    published/current -> <run_id>         the same as a symlink, for tools that want a fixed path

A version folder is written under a hidden temporary name and renamed when complete; ``CURRENT`` is
switched after that, and the newest ``keep_versions`` folders are kept.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from insight_engine import duck, failpoints, runlog
from insight_engine.inputs import check_run_id

log = logging.getLogger(__name__)

# Schemas BI may read. Staging and quarantine hold PII and raw text: never published.
SERVING_SCHEMAS: tuple[str, ...] = ("core", "rox", "quality")
# Oldest storage format that the DuckDB 1.x readers in current BI drivers open.
SERVING_STORAGE_VERSION = "v1.0.0"
PUBLISHED_DIR = "published"
CURRENT_FILE = "CURRENT"
CURRENT_LINK = "current"
DEFAULT_KEEP_VERSIONS = 3
# The content checksum: the sum of DuckDB's hash() per row (see content_checksum). hash() may change with a
# DuckDB release, so the name carries the major.minor version that computed it: a manifest is comparable
# with another of the same name only (an upgrade reads as a new algorithm, not as changed data).
CHECKSUM_ALGORITHM = "duckdb{}.{}-hash64".format(*duckdb.__version__.split(".")[:2])

LOG_DDL = """
create table if not exists publish_log (
    run_id varchar primary key,
    started_at timestamp,
    finished_at timestamp,
    raw_root varchar,
    outcome varchar,          -- published | failed | killed (or, while it runs: running | publishing)
    failed_gate varchar,      -- raw_gate | dbt_build | mart_gate | publish | null (running: its stage)
    message varchar,
    gates json,
    row_counts json
)
"""


@dataclass
class PublishResult:
    serving: Path
    run_id: str = ""
    row_counts: dict[str, int] = field(default_factory=dict)
    version_dir: Path | None = None  # published/<run_id>/ (Parquet + manifest.json); None: not exported
    manifest: dict[str, Any] | None = None
    pruned: list[str] = field(default_factory=list)
    seconds: float = 0.0


def new_run_id() -> str:
    """Sortable, unique per microsecond: ``20261202T172256144803Z``; names the version folder too."""
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")


def _q(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _sql_str(value: str | Path) -> str:
    return "'" + str(value).replace("'", "''") + "'"


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


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def sha256_file(path: Path) -> str:
    """The SHA-256 of a file, read in 1 MiB blocks (the manifest's and the landing ledger's)."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def content_checksum(con: duckdb.DuckDBPyConnection, relation: str, columns: list[tuple[str, str]]) -> str:
    """Order-independent checksum of a table's rows: the sum of DuckDB's 64-bit ``hash()`` of each row.

    Two tables holding the same rows in any order have the same value (Parquet file bytes may not), and a
    table has the value of its Parquet export (every type the marts use reads back as itself). ``hash()``
    of the row is DuckDB's own, deterministic for a DuckDB release (the lock pins 1.5.x; the checksum's name
    says which, :data:`CHECKSUM_ALGORITHM`): 20x cheaper than the md5 of the row's text it replaced (0.09 s
    against 1.73 s for 2.5M journey events), which was half of the publish stage (DECISIONLOG.md, "Publish
    checksums rows with DuckDB's hash").
    DOUBLE/FLOAT values enter with 12 significant digits: DuckDB's parallel aggregation may add in another
    order from one run to the next and move a mean or a correlation in its last bit (109.895 vs
    109.89500000000001); that is not a change of the data. They are first rounded to 12 decimals (and
    ``+ 0.0`` turns -0.0 into 0.0): a correlation that is zero up to float noise may come out as
    -4.8e-17 in one run and 4.8e-17 in the next, equal to 12 significant digits of nothing.
    """
    floats = [name for name, data_type in columns if data_type in {"DOUBLE", "FLOAT", "REAL"}]
    replace = (
        " replace ("
        + ", ".join(f"printf('%.12g', round({_q(c)}, 12) + 0.0) as {_q(c)}" for c in floats)
        + ")"
        if floats
        else ""
    )
    (total,) = con.execute(
        f"select coalesce(sum(hash(t)), 0) from (select *{replace} from {relation}) as t"
    ).fetchone()
    return f"{CHECKSUM_ALGORITHM}:{int(total)}"


def _export_parquet(
    con: duckdb.DuckDBPyConnection, catalog: str, tables: list[tuple[str, str]], out: Path, run_id: str
) -> dict[str, Any]:
    """Write every table of ``catalog`` to ``out/<schema>/<table>.parquet`` and ``out/manifest.json``."""
    entries = []
    for schema, table in tables:
        relation = f"{catalog}.{_q(schema)}.{_q(table)}"
        path = out / schema / f"{table}.parquet"
        path.parent.mkdir(parents=True, exist_ok=True)
        con.execute(f"copy (select * from {relation}) to {_sql_str(path)} (format parquet, compression zstd)")
        (rows,) = con.execute(f"select count(*) from {relation}").fetchone()
        columns = con.execute(
            """
            select column_name, data_type from information_schema.columns
            where table_catalog = ? and table_schema = ? and table_name = ?
            order by ordinal_position
            """,
            [catalog, schema, table],
        ).fetchall()
        entries.append(
            {
                "schema": schema,
                "table": table,
                "path": f"{schema}/{table}.parquet",
                "rows": int(rows),
                "columns": [{"name": n, "type": t} for n, t in columns],
                "sha256": sha256_file(path),
                "content_checksum": content_checksum(con, relation, columns),
            }
        )
    manifest = {
        "run_id": run_id,
        "published_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "format": "parquet",
        "written_by": f"duckdb {duckdb.__version__}",
        "tables": entries,
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    for path in [*out.rglob("*.parquet"), out / "manifest.json"]:
        _fsync(path)
    return manifest


def _switch_current(published_dir: Path, run_id: str) -> None:
    """Point ``CURRENT`` (a file holding the run id) and ``current`` (a symlink) at ``run_id``, each with
    one rename: a reader sees the old version or the new one, never neither."""
    tmp = published_dir / f".{CURRENT_FILE}.{run_id}.tmp"
    tmp.write_text(run_id + "\n", encoding="utf-8")
    _fsync(tmp)
    os.replace(tmp, published_dir / CURRENT_FILE)
    link_tmp = published_dir / f".{CURRENT_LINK}.{run_id}.tmp"
    link_tmp.unlink(missing_ok=True)
    os.symlink(run_id, link_tmp)
    os.replace(link_tmp, published_dir / CURRENT_LINK)
    _fsync(published_dir)


def current_version(published_dir: Path) -> str | None:
    """The run id ``published/CURRENT`` names, or None before the first export."""
    path = Path(published_dir) / CURRENT_FILE
    if not path.exists():
        return None
    return path.read_text(encoding="utf-8").strip() or None


def versions(published_dir: Path) -> list[str]:
    """Complete versions (a folder with a manifest), oldest first."""
    if not Path(published_dir).exists():
        return []
    return sorted(
        d.name
        for d in Path(published_dir).iterdir()
        if d.is_dir() and not d.is_symlink() and not d.name.startswith(".") and (d / "manifest.json").exists()
    )


def prune(published_dir: Path, keep: int) -> list[str]:
    """Delete all but the ``keep`` newest versions (never the current one) and leftovers of crashed
    publishes. A reader holding a version sees it vanish only after ``keep - 1`` further publishes."""
    if keep < 1:
        raise ValueError(f"keep_versions must be at least 1, got {keep}")
    published_dir = Path(published_dir)
    current = current_version(published_dir)
    names = versions(published_dir)
    doomed = [n for n in names[:-keep] if n != current]
    for name in doomed:
        shutil.rmtree(published_dir / name)
    for leftover in published_dir.glob(".*.tmp"):
        if leftover.is_dir() and not leftover.is_symlink():
            shutil.rmtree(leftover, ignore_errors=True)
    return doomed


def publish(
    build_warehouse: Path,
    serving: Path,
    *,
    run_id: str,
    publish_log: Path | None = None,
    published_dir: Path | None = None,
    keep_versions: int = DEFAULT_KEEP_VERSIONS,
    export_parquet: bool = True,
) -> PublishResult:
    """Copy every table of the serving schemas from ``build_warehouse`` to ``serving``, atomically, and
    export the same tables as Parquet to ``published_dir/<run_id>/`` (default: ``published/`` beside the
    serving file) with a ``manifest.json``; then switch ``CURRENT`` to it and keep ``keep_versions``."""
    started = time.perf_counter()
    check_run_id(run_id)  # it names the version folder: no '../', no separators
    build_warehouse, serving = Path(build_warehouse), Path(serving)
    if not build_warehouse.exists():
        raise FileNotFoundError(
            f"build warehouse {build_warehouse} does not exist: run `insight-engine build`"
        )
    if keep_versions < 1:
        raise ValueError(f"keep_versions must be at least 1, got {keep_versions}")
    published_dir = Path(published_dir) if published_dir is not None else serving.parent / PUBLISHED_DIR
    serving.parent.mkdir(parents=True, exist_ok=True)
    tmp = serving.with_name(f".{serving.name}.{run_id}.tmp")
    staging = published_dir / f".{run_id}.tmp"
    version_dir = published_dir / run_id
    if export_parquet and version_dir.exists():
        raise FileExistsError(f"{version_dir} exists already: every publish needs a new run id")
    tmp.unlink(missing_ok=True)
    result = PublishResult(serving=serving, run_id=run_id)
    try:
        con = duck.configure(duckdb.connect())  # the profile's memory limit, not 80% of the RAM
        try:
            con.execute(f"attach {_sql_str(build_warehouse)} as src (read_only)")
            con.execute(f"attach {_sql_str(tmp)} as dst (storage_version '{SERVING_STORAGE_VERSION}')")
            tables = publishable_tables(con, "src")
            if not tables:
                raise RuntimeError(
                    f"nothing to publish: {build_warehouse} has no tables in schemas "
                    f"{', '.join(SERVING_SCHEMAS)}"
                )
            for schema, table in tables:
                t = time.perf_counter()
                con.execute(f"create schema if not exists dst.{_q(schema)}")
                con.execute(
                    f"create table dst.{_q(schema)}.{_q(table)} as select * from src.{_q(schema)}.{_q(table)}"
                )
                (n,) = con.execute(f"select count(*) from dst.{_q(schema)}.{_q(table)}").fetchone()
                result.row_counts[f"{schema}.{table}"] = int(n)
                runlog.event(
                    "publish",
                    "table_published",
                    f"published {schema}.{table}: {int(n):,} rows",
                    table=f"{schema}.{table}",
                    rows=int(n),
                    seconds=round(time.perf_counter() - t, 3),
                )
            exported = list(tables)
            if publish_log is not None and Path(publish_log).exists():
                con.execute(f"attach {_sql_str(publish_log)} as ops_log (read_only)")
                con.execute("create schema if not exists dst.ops")
                # this run's row says 'publishing' until the rename: in the copy it is 'published'
                con.execute(
                    "create table dst.ops.publish_log as select * replace ("
                    f"case when run_id = {_sql_str(run_id)} then 'published' else outcome end as outcome)"
                    " from ops_log.publish_log"
                )
                exported.append(("ops", "publish_log"))
            if export_parquet:
                shutil.rmtree(staging, ignore_errors=True)
                staging.mkdir(parents=True)
                result.manifest = _export_parquet(con, "dst", exported, staging, run_id)
            con.execute("detach dst")
        finally:
            con.close()
        _fsync(tmp)
        if export_parquet:
            failpoints.hit("publish.before_version_rename")
            os.rename(staging, version_dir)  # complete, but not current until CURRENT names it
            result.version_dir = version_dir
        failpoints.hit("publish.before_serving_rename")
        os.replace(tmp, serving)
        _fsync(serving.parent)
        failpoints.hit("publish.after_serving_rename")
        if export_parquet:
            _switch_current(published_dir, run_id)
            failpoints.hit("publish.after_current_switch")
            result.pruned = prune(published_dir, keep_versions)
    except BaseException:
        tmp.unlink(missing_ok=True)
        shutil.rmtree(staging, ignore_errors=True)
        raise
    result.seconds = round(time.perf_counter() - started, 2)
    runlog.event(
        "publish",
        "published",
        f"published {len(result.row_counts)} tables to {serving}"
        + (f" and {version_dir} (CURRENT)" if export_parquet else "")
        + (f"; removed old versions {', '.join(result.pruned)}" if result.pruned else ""),
        tables=len(result.row_counts),
        rows=sum(result.row_counts.values()),
        seconds=result.seconds,
        serving=str(serving),
        version_dir=str(version_dir) if export_parquet else None,
        pruned=result.pruned,
    )
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


def _published_in(serving: Path) -> set[str]:
    """Run ids the serving file's own ``ops.publish_log`` says are published (empty if unreadable)."""
    if not serving.exists():
        return set()
    try:
        with duckdb.connect(str(serving), read_only=True) as con:
            rows = con.execute("select run_id from ops.publish_log where outcome = 'published'").fetchall()
    except duckdb.Error:
        return set()
    return {r[0] for r in rows}


def recover(
    serving: Path, publish_log: Path, published_dir: Path | None = None, *, by_run: str = "this run"
) -> list[str]:
    """Finish what a killed run left, before a new run starts (call it holding the run lock, so that
    nothing found here belongs to a live run). Returns one line per thing done, for the log.

    * temporary files of an interrupted publish (``.serving.duckdb.<run>.tmp``, ``published/.<run>.tmp``,
      half-switched ``CURRENT``) are deleted: the serving file and ``CURRENT`` were never touched by them;
    * a run the log still calls ``running`` or ``publishing`` ended without a word (SIGKILL, OOM, power).
      If the serving file already holds it (killed after the rename), it is published: the log says so
      and ``CURRENT`` is rolled forward to its Parquet version. Otherwise it is ``killed`` (with the stage
      it was in), and a Parquet version it had renamed into place but never made current is removed.
    """
    serving, publish_log = Path(serving), Path(publish_log)
    published_dir = Path(published_dir) if published_dir is not None else serving.parent / PUBLISHED_DIR
    notes: list[str] = []
    for leftover in sorted(serving.parent.glob(f".{serving.name}.*.tmp")):
        leftover.unlink(missing_ok=True)
        notes.append(f"removed {leftover.name} (a publish interrupted before its rename)")
    if published_dir.exists():
        for leftover in sorted(published_dir.glob(".*.tmp")):
            if leftover.is_dir() and not leftover.is_symlink():
                shutil.rmtree(leftover, ignore_errors=True)
            else:
                leftover.unlink(missing_ok=True)
            notes.append(f"removed {published_dir.name}/{leftover.name} (an interrupted publish)")
    if not publish_log.exists():
        return notes
    with duckdb.connect(str(publish_log)) as con:
        con.execute(LOG_DDL)
        open_runs = con.execute(
            "select run_id, outcome, failed_gate from publish_log "
            "where outcome in ('running', 'publishing') order by started_at"
        ).fetchall()
        live = _published_in(serving) if open_runs else set()
        for run_id, outcome, stage in open_runs:
            if run_id in live:
                message = (
                    f"published; the run was killed after the serving file's rename, before it logged so "
                    f"(recovered by {by_run})"
                )
                con.execute(
                    "update publish_log set outcome = 'published', failed_gate = null, message = ? "
                    "where run_id = ?",
                    [message, run_id],
                )
                if (published_dir / run_id / "manifest.json").exists() and current_version(
                    published_dir
                ) != run_id:
                    _switch_current(published_dir, run_id)
                    notes.append(f"run {run_id}: published/CURRENT rolled forward to its version")
                notes.append(f"run {run_id}: serving holds it, logged as published")
                continue
            message = (
                f"killed during {stage or 'the run'} without a clean exit (SIGKILL, out of memory or power "
                f"loss); serving was left as it was (found by {by_run})"
            )
            con.execute(
                "update publish_log set outcome = 'killed', failed_gate = ?, message = ? where run_id = ?",
                [stage, message, run_id],
            )
            orphan = published_dir / run_id
            if orphan.is_dir() and current_version(published_dir) != run_id:
                shutil.rmtree(orphan, ignore_errors=True)
                notes.append(f"run {run_id}: removed its Parquet version, never made current")
            notes.append(f"run {run_id} ({outcome}): killed during {stage or 'the run'}")
    return notes
