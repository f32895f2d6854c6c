"""What a warehouse folder holds, as content checksums: the serving file, the current Parquet version and the
build warehouse. Shared by the crash, delivery-order and concurrency tests (issue 15)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb

from insight_engine import publish as pub

PROJECT_DIR = Path(__file__).resolve().parents[2]
READER_DIR = PROJECT_DIR / ".venv" / "duckdb-1.1-reader"  # installed by `make setup`
# tables whose content is the run's own bookkeeping, not a function of the landing zone
RUN_BOOKKEEPING = {"ops.publish_log"}


def env(**extra: str) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if k != "INSIGHT_ENGINE_KILL_AT"}
    return {**base, "PYTHONPATH": str(PROJECT_DIR), "TZ": "UTC", "PYTHONUNBUFFERED": "1", **extra}


def job_args(raw: Path, work: Path, *extra: str, command: str = "run") -> list[str]:
    args = [sys.executable, "-m", "insight_engine.cli", command, "--warehouse-dir", str(work / "warehouse")]
    if command == "run":
        args += [
            "--raw-root",
            str(raw),
            "--gates-dir",
            str(work / "gates"),
            "--target-path",
            str(work / "target"),
        ]
        args += ["--log-format", "json"]
    return [*args, *extra]


def run_job(raw: Path, work: Path, *extra: str, kill_at: str | None = None, command: str = "run"):
    """The scheduled job in its own process, as cron runs it; ``kill_at`` sets a SIGKILL point."""
    extra_env = {"INSIGHT_ENGINE_KILL_AT": kill_at} if kill_at else {}
    return subprocess.run(
        job_args(raw, work, *extra, command=command),
        capture_output=True,
        text=True,
        env=env(**extra_env),
        timeout=900,
    )


def _tables(con: duckdb.DuckDBPyConnection, catalog: str, skip_schemas: tuple[str, ...] = ()) -> list:
    return [
        (schema, table)
        for schema, table in con.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_catalog = ? and table_type = 'BASE TABLE' order by 1, 2",
            [catalog],
        ).fetchall()
        if schema not in skip_schemas
    ]


def _checksums(con: duckdb.DuckDBPyConnection, catalog: str, tables: list) -> dict[str, tuple[int, str]]:
    out = {}
    for schema, table in tables:
        if f"{schema}.{table}" in RUN_BOOKKEEPING:
            continue
        columns = con.execute(
            "select column_name, data_type from information_schema.columns "
            "where table_catalog = ? and table_schema = ? and table_name = ? order by ordinal_position",
            [catalog, schema, table],
        ).fetchall()
        relation = f'{catalog}."{schema}"."{table}"'
        (rows,) = con.execute(f"select count(*) from {relation}").fetchone()
        out[f"{schema}.{table}"] = (int(rows), pub.content_checksum(con, relation, columns))
    return out


def database_checksums(path: Path, *, skip_schemas: tuple[str, ...] = ()) -> dict[str, tuple[int, str]]:
    """Row count and content checksum of every table of a DuckDB file, opened read-only."""
    con = duckdb.connect()
    try:
        con.execute(f"attach '{path}' as db (read_only)")
        return _checksums(con, "db", _tables(con, "db", skip_schemas))
    finally:
        con.close()


def serving_checksums(warehouse: Path) -> dict[str, tuple[int, str]]:
    return database_checksums(warehouse / "serving.duckdb")


def build_checksums(warehouse: Path) -> dict[str, tuple[int, str]]:
    """The build warehouse's tables (the incremental state included); snapshots carry their build time, and
    `test_slices` is run bookkeeping (what each run wrote, each invocation's outcome; see
    macros/utils/test_slices.sql)."""
    return database_checksums(warehouse / "insight_engine.duckdb", skip_schemas=("snapshots", "test_slices"))


def current_version_checksums(warehouse: Path) -> tuple[str, dict[str, tuple[int, str]]]:
    """The version ``published/CURRENT`` names and its tables' checksums, recomputed from its Parquet files
    (each must match its manifest entry: a torn version fails here)."""
    folder = warehouse / pub.PUBLISHED_DIR
    run_id = pub.current_version(folder)
    assert run_id is not None, f"{folder} has no CURRENT"
    manifest = json.loads((folder / run_id / "manifest.json").read_text())
    got = {}
    con = duckdb.connect()
    try:
        for t in manifest["tables"]:
            name = f"{t['schema']}.{t['table']}"
            relation = f"read_parquet('{folder / run_id / t['path']}')"
            columns = [(c["name"], c["type"]) for c in t["columns"]]
            (rows,) = con.execute(f"select count(*) from {relation}").fetchone()
            checksum = pub.content_checksum(con, relation, columns)
            assert (rows, checksum) == (t["rows"], t["content_checksum"]), f"{name} differs from its manifest"
            if name not in RUN_BOOKKEEPING:
                got[name] = (int(rows), checksum)
    finally:
        con.close()
    return run_id, got


def opens_cleanly(database: Path) -> None:
    """Open read-write (DuckDB replays or discards its write-ahead log here) and query every table."""
    with duckdb.connect(str(database)) as con:
        for schema, table in _tables(con, database.stem):
            con.execute(f'select count(*) from "{schema}"."{table}"').fetchone()


def landing_loads(raw: Path) -> list[str]:
    return sorted({p.name.split("=", 1)[1] for p in raw.glob("*/*/load_date=*")})


def copy_zone(raw: Path, out: Path, *, without: set[str] = frozenset()) -> Path:
    """A copy of a landing zone without the loads named in ``without`` (every table's folder)."""
    shutil.copytree(raw, out, ignore=lambda _d, names: [n for n in names if n.split("=", 1)[-1] in without])
    return out


def count_in_duckdb_1x_reader(serving: Path, table: str) -> tuple[str, int]:
    """Open ``serving`` read-only in the DuckDB 1.1 reader that BI drivers embed (a child process with the
    reader on its path) and count ``table``'s rows: (the reader's version, the count)."""
    assert READER_DIR.exists(), f"{READER_DIR} is missing: run `make setup`"
    code = (
        "import duckdb, sys; "
        "assert duckdb.__version__.startswith('1.1'), duckdb.__version__; "
        f"con = duckdb.connect({str(serving)!r}, read_only=True); "
        f"print(duckdb.__version__, con.execute('select count(*) from {table}').fetchone()[0])"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, "PYTHONPATH": str(READER_DIR)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    version, count = proc.stdout.split()
    return version, int(count)
