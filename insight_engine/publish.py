"""Write-audit-publish: copy the audited marts into a new serving file and swap it in atomically.

BI tools read ``serving.duckdb``; they never see the build warehouse. A new serving file is written next
to the old one (attached with an explicit ``STORAGE_VERSION`` so DuckDB 1.x readers embedded in BI drivers
can open it) and moved over it with ``os.replace``: readers see the old file or the new one, never half.
A reader that has the old file open keeps reading it (the rename does not touch its inode); the publisher
never opens ``serving.duckdb`` itself, so no reader ever meets a lock.

The same tables are exported as Parquet, one folder per version::

    published/<run_id>/<schema>/<table>.parquet
    published/<run_id>/manifest.json      tables, rows, columns, sha256 per file, content and exact checksums
    published/CURRENT                     the current run id (replaced with one rename)
    published/current -> <run_id>         the same as a symlink, for tools that want a fixed path

A version folder is written under a hidden temporary name and renamed when complete; ``CURRENT`` is
switched after that, and the newest ``keep_versions`` folders are kept.

A daily publish writes what changed (issue 13: "publish copies only what changed"). The new serving file
starts as a byte copy of the current one (:func:`_reused_serving`); in it each table is left as it is when
its rows equal the build's, updated in place when few rows differ (the rows whose 64-bit row hash lost or
gained copies are deleted and inserted, :func:`_write_table`; each row is hashed once per side, and a large
table is compared bucket by bucket first, :func:`_changed_hashes`), and written whole otherwise. A Parquet
file whose table has the previous version's exact checksum, rows and columns is hard-linked from that
version instead of written again. ``reuse=False`` (``run --full-refresh``) writes everything.
"""

from __future__ import annotations

import contextlib
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
FLOAT_TYPES = frozenset({"DOUBLE", "FLOAT", "REAL"})
# Parquet: zstd at level 1, not DuckDB's default 3: 1.24 s against 1.73 s for the 2.5M journey events of
# scale m, and the file as small (125 against 126 MB); the level is the writer's alone, every reader reads it.
PARQUET_OPTIONS = "format parquet, compression zstd, compression_level 1"
# A table of the copied serving file is updated in place when the rows to delete and to insert are at most
# this share of its rows (the larger of the two tables); above it the table is written whole: deleting most
# rows costs more than writing them, and leaves their space in the file.
DELTA_MAX_CHANGED_SHARE = 0.5
# A table of at least this many rows finds its changed rows in two steps: the rows are put in buckets by the
# top bits of their row hash (about DELTA_BUCKET_ROWS rows per bucket, at most 2^DELTA_MAX_BUCKET_BITS
# buckets) and each side's buckets summed (count, sum and xor of the hashes: a cheap group-by of a million
# groups); only the rows of the buckets that differ are then grouped by hash. The l journey events' 25M
# rows: 7.2 s against 12.2 s for grouping every hash (bench/README.md, "Publish narrows the row-hash diff").
DELTA_BUCKETED_MIN_ROWS = 1_000_000
DELTA_BUCKET_ROWS = 16
DELTA_MAX_BUCKET_BITS = 20
# The last serving file is not reused when more than this share of its blocks is free: deleted rows and
# dropped tables leave free blocks that DuckDB reuses but never gives back, so a file copied day after day
# would keep them; a whole write every few days bounds the file at about 1 / (1 - share) of its data.
REUSE_MAX_FREE_SHARE = 0.25

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
    reused_serving: bool = False  # the serving file started as a copy of the last one
    # table -> created | unchanged | updated | rewritten (_write_table)
    written: dict[str, str] = field(default_factory=dict)
    parquet_reused: list[str] = field(default_factory=list)  # tables hard-linked from the previous version
    # tables compared bucket by bucket first (_changed_hashes) -> the share of their buckets that differed
    bucketed: dict[str, float] = field(default_factory=dict)


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


def content_checksum(
    con: duckdb.DuckDBPyConnection, relation: str, columns: list[tuple[str, str]], *, exact: bool = False
) -> str:
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
    ``exact``: no rounding (the manifest's ``exact_checksum``): equal only when every value is
    bit-identical, which is what a Parquet file reused from the last version must be.
    """
    floats = [] if exact else [n for n, data_type in columns if data_type in FLOAT_TYPES]
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


def _columns(con: duckdb.DuckDBPyConnection, catalog: str, schema: str, table: str) -> list[tuple[str, str]]:
    """A table's (column, type) in order."""
    return con.execute(
        """
        select column_name, data_type from information_schema.columns
        where table_catalog = ? and table_schema = ? and table_name = ?
        order by ordinal_position
        """,
        [catalog, schema, table],
    ).fetchall()


def _previous_files(published_dir: Path) -> tuple[Path, dict[tuple[str, str], dict[str, Any]]] | None:
    """The current version's folder and its manifest's entries by (schema, table); None without one."""
    run_id = current_version(published_dir)
    if run_id is None:
        return None
    folder = published_dir / run_id
    try:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        return folder, {(t["schema"], t["table"]): t for t in manifest["tables"]}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        log.warning(
            "the current version's manifest in %s is unreadable (%s): every file is written", folder, exc
        )
        return None


def _linked_from_previous(
    entry: dict[str, Any], previous: Path | None, old: dict[str, Any] | None, path: Path
) -> str | None:
    """Hard-link the previous version's file of a table to ``path`` when its manifest entry has the same
    rows, columns and exact checksum, and the file still has its recorded SHA-256 (copied where the file
    system has no hard links): that SHA-256; None: the caller writes the file."""
    if previous is None or old is None:
        return None
    if any(old.get(k) != entry[k] for k in ("rows", "columns", "exact_checksum")):
        return None
    source = previous / str(old.get("path", ""))
    if not source.is_file() or source.is_symlink():
        return None
    try:
        os.link(source, path)
    except OSError:
        try:
            shutil.copyfile(source, path)
        except OSError:
            return None
    sha256 = sha256_file(path)
    if sha256 != old.get("sha256"):  # changed on disk since: write it again
        path.unlink()
        return None
    return sha256


def _export_parquet(
    con: duckdb.DuckDBPyConnection,
    catalog: str,
    tables: list[tuple[str, str]],
    out: Path,
    run_id: str,
    previous: tuple[Path, dict[tuple[str, str], dict[str, Any]]] | None = None,
    reused: list[str] | None = None,
) -> dict[str, Any]:
    """Write every table of ``catalog`` to ``out/<schema>/<table>.parquet`` and ``out/manifest.json``; a
    table whose content equals its file in ``previous`` (the current version's folder and manifest) is
    hard-linked from there and named in ``reused``."""
    entries = []
    folder, old_entries = previous if previous is not None else (None, {})
    for schema, table in tables:
        relation = f"{catalog}.{_q(schema)}.{_q(table)}"
        path = out / schema / f"{table}.parquet"
        path.parent.mkdir(parents=True, exist_ok=True)
        (rows,) = con.execute(f"select count(*) from {relation}").fetchone()
        columns = _columns(con, catalog, schema, table)
        entry: dict[str, Any] = {
            "schema": schema,
            "table": table,
            "path": f"{schema}/{table}.parquet",
            "rows": int(rows),
            "columns": [{"name": n, "type": t} for n, t in columns],
            "sha256": "",
            "content_checksum": content_checksum(con, relation, columns),
        }
        # without a double column the two are the same sum: one pass, not two
        entry["exact_checksum"] = (
            content_checksum(con, relation, columns, exact=True)
            if any(t in FLOAT_TYPES for _, t in columns)
            else entry["content_checksum"]
        )
        linked = _linked_from_previous(entry, folder, old_entries.get((schema, table)), path)
        if linked is None:
            con.execute(f"copy (select * from {relation}) to {_sql_str(path)} ({PARQUET_OPTIONS})")
        elif reused is not None:
            reused.append(f"{schema}.{table}")
        entry["sha256"] = linked or sha256_file(path)
        entries.append(entry)
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


def _reused_serving(con: duckdb.DuckDBPyConnection, serving: Path, tmp: Path, reuse: bool) -> bool:
    """Attach ``tmp`` as ``dst``: with ``reuse``, a byte copy of the current serving file when it can be
    reused (it opens, has the serving storage version and at most :data:`REUSE_MAX_FREE_SHARE` free
    blocks); else a new file.

    Copying the file reads it like any reader would: readers keep their own handles, and the run lock
    keeps other publishers out. True when the copy was kept."""
    attach = f"attach {_sql_str(tmp)} as dst (storage_version '{SERVING_STORAGE_VERSION}')"
    if reuse and serving.is_file():
        reason = ""
        try:
            shutil.copyfile(serving, tmp)
            con.execute(attach)
            (tags,) = con.execute(
                "select tags from duckdb_databases() where database_name = 'dst'"
            ).fetchone()
            version = str((tags or {}).get("storage_version", ""))
            total, free = con.execute(
                "select total_blocks, free_blocks from pragma_database_size() where database_name = 'dst'"
            ).fetchone()
            if not version.startswith(SERVING_STORAGE_VERSION):
                reason = f"storage version {version or 'unknown'}, not {SERVING_STORAGE_VERSION}"
            elif total and free / total > REUSE_MAX_FREE_SHARE:
                reason = f"{free:,} of its {total:,} blocks are free"
            else:
                return True
        except (OSError, duckdb.Error) as exc:
            reason = f"{type(exc).__name__}: {exc}"
        log.info("the serving file %s is written whole, not reused: %s", serving, reason)
        try:
            con.execute("detach dst")
        except duckdb.Error:
            pass  # it never attached
        tmp.unlink(missing_ok=True)
        Path(f"{tmp}.wal").unlink(missing_ok=True)
    con.execute(attach)
    return False


def _bucket_bits(n_rows: int) -> int:
    """How many top bits of the row hash name a table's bucket: about :data:`DELTA_BUCKET_ROWS` rows per
    bucket, at most 2^:data:`DELTA_MAX_BUCKET_BITS` buckets."""
    return max(1, min(DELTA_MAX_BUCKET_BITS, (n_rows // DELTA_BUCKET_ROWS).bit_length() - 1))


def _changed_hashes(
    con: duckdb.DuckDBPyConnection,
    source: str,
    target: str,
    row_hash: str,
    n_rows: int,
    *,
    source_has_rowid: bool = True,
) -> float | None:
    """Fill the temp table ``publish_changed`` with the row hashes whose number of rows differs between
    ``source`` and ``target`` (``h``, ``n_src``, ``n_dst``).

    Each side's row hashes are computed once, with the row's ``rowid``, into the temp tables
    ``publish_src`` and ``publish_dst`` (``h``, ``r``): every later step, and the delete and insert of
    :func:`_write_table`, reads them instead of hashing every column of the table again (the l journey
    events' 25M rows: three hash passes over each side became one; bench/README.md, "Publish hashes each row
    once").

    A table of :data:`DELTA_BUCKETED_MIN_ROWS` rows or more is compared bucket by bucket first (count,
    sum and xor of the hashes per bucket of the hash's top bits, each side one group-by with few groups)
    and only the rows of the buckets that differ are grouped by hash; a bucket whose rows changed keeps
    its three aggregates only when the changed hashes cancel in the sum and in the xor at once (about
    2^-44 for two changes in one bucket). Returns the share of buckets that differ; None when every hash
    was grouped. ``source_has_rowid=False`` (a mart built as a view): ``publish_src.r`` is null, and the
    caller finds the source's rows by their hash."""
    for side, relation, has_rowid in (("src", source, source_has_rowid), ("dst", target, True)):
        rowid = "rowid" if has_rowid else "null::bigint"
        con.execute(
            f"create or replace temp table publish_{side} as"
            f" select {row_hash} as h, {rowid} as r from {relation}"
        )
    scope, share = "", None
    if n_rows >= DELTA_BUCKETED_MIN_ROWS:
        bits = _bucket_bits(n_rows)
        bucket = f"(h >> {64 - bits})"
        sums = "select {b} as b, count(*) as n, sum(h) as s, bit_xor(h) as x from publish_{side} group by all"
        con.execute(
            f"""
            create or replace temp table publish_buckets as
            select b
            from ({sums.format(b=bucket, side="src")}) as s
            full outer join ({sums.format(b=bucket, side="dst")}) as d using (b)
            where s.n is distinct from d.n or s.s is distinct from d.s or s.x is distinct from d.x
            """
        )
        (n_buckets,) = con.execute("select count(*) from publish_buckets").fetchone()
        share = n_buckets / 2**bits
        scope = f" where {bucket} in (select b from publish_buckets)"
    con.execute(
        f"""
        create or replace temp table publish_changed as
        select h, coalesce(s.n, 0) as n_src, coalesce(d.n, 0) as n_dst
        from (select h, count(*) as n from publish_src{scope} group by all) as s
        full outer join (select h, count(*) as n from publish_dst{scope} group by all) as d using (h)
        where s.n is distinct from d.n
        """
    )
    return share


def _write_table(
    con: duckdb.DuckDBPyConnection, schema: str, table: str
) -> tuple[str, int, int, float | None]:
    """Make ``dst.<schema>.<table>`` hold the rows of ``src.<schema>.<table>``: (how, rows deleted, rows
    inserted, share of hash buckets compared row by row), ``how`` one of created, unchanged, updated,
    rewritten.

    A table the copied serving file already has with the same columns and types is compared by row hash
    (DuckDB's ``hash`` of every column, exact: a double that moved in its last bit is a changed row): the
    hashes whose number of rows differs between the two are the change (:func:`_changed_hashes`); the
    serving table's rows with those hashes are deleted and the build's rows with those hashes inserted
    (each found by its ``rowid``; a view's rows by their hash), so the table ends with the build's rows,
    duplicates included. Above :data:`DELTA_MAX_CHANGED_SHARE`, or with other columns, the table is
    written whole. Two different rows with one 64-bit hash would keep the old row (about 1e-9 for a
    thousand changed rows among 25 million)."""
    source, target = f"src.{_q(schema)}.{_q(table)}", f"dst.{_q(schema)}.{_q(table)}"
    columns = _columns(con, "src", schema, table)
    existing = _columns(con, "dst", schema, table)
    try:
        if existing and existing == columns:
            row_hash = "hash(" + ", ".join(_q(name) for name, _ in columns) + ")"
            n_rows = max(
                con.execute(f"select count(*) from {relation}").fetchone()[0] for relation in (source, target)
            )
            # a view (a mart a user materialized as one) has no rowid: its rows are found by hash
            (kind,) = con.execute(
                "select table_type from information_schema.tables"
                " where table_catalog = 'src' and table_schema = ? and table_name = ?",
                [schema, table],
            ).fetchone()
            is_table = kind == "BASE TABLE"
            share = _changed_hashes(con, source, target, row_hash, n_rows, source_has_rowid=is_table)
            n_hashes, n_deleted, n_inserted = con.execute(
                "select count(*), coalesce(sum(n_dst), 0), coalesce(sum(n_src), 0) from publish_changed"
            ).fetchone()
            if n_hashes == 0:
                return "unchanged", 0, 0, share
            if n_deleted + n_inserted <= DELTA_MAX_CHANGED_SHARE * n_rows:
                rows = "(select r from publish_{} where h in (select h from publish_changed))"
                con.execute(f"delete from {target} where rowid in {rows.format('dst')}")
                found = (
                    f"rowid in {rows.format('src')}"
                    if is_table
                    else f"{row_hash} in (select h from publish_changed)"
                )
                con.execute(f"insert into {target} select * from {source} where {found}")
                return "updated", int(n_deleted), int(n_inserted), share
    finally:  # the hashes of a large table hold hundreds of MB of the connection's memory
        for temp in ("publish_src", "publish_dst", "publish_buckets", "publish_changed"):
            with contextlib.suppress(duckdb.Error):  # never hide the error that brought us here
                con.execute(f"drop table if exists {temp}")
    how = "rewritten" if existing else "created"
    con.execute(f"create schema if not exists dst.{_q(schema)}")
    con.execute(f"create or replace table {target} as select * from {source}")
    return how, 0, 0, None


def _drop_unpublished(con: duckdb.DuckDBPyConnection, keep: set[tuple[str, str]]) -> None:
    """Drop what the copied serving file holds and this publish does not (a mart removed since)."""
    for schema, name, kind in con.execute(
        "select table_schema, table_name, table_type from information_schema.tables"
        " where table_catalog = 'dst'"
    ).fetchall():
        if (schema, name) not in keep:
            con.execute(f"drop {'view' if kind == 'VIEW' else 'table'} dst.{_q(schema)}.{_q(name)}")


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
    reuse: bool = True,
) -> PublishResult:
    """Copy every table of the serving schemas from ``build_warehouse`` to ``serving``, atomically, and
    export the same tables as Parquet to ``published_dir/<run_id>/`` (default: ``published/`` beside the
    serving file) with a ``manifest.json``; then switch ``CURRENT`` to it and keep ``keep_versions``.
    ``reuse``: start from the current serving file and version and write only what changed (module
    docstring); False writes every table and file."""
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
            tables = publishable_tables(con, "src")
            if not tables:
                raise RuntimeError(
                    f"nothing to publish: {build_warehouse} has no tables in schemas "
                    f"{', '.join(SERVING_SCHEMAS)}"
                )
            result.reused_serving = _reused_serving(con, serving, tmp, reuse)
            _drop_unpublished(con, set(tables))
            for schema, table in tables:
                t = time.perf_counter()
                how, deleted, inserted, share = _write_table(con, schema, table)
                (n,) = con.execute(f"select count(*) from dst.{_q(schema)}.{_q(table)}").fetchone()
                result.row_counts[f"{schema}.{table}"] = int(n)
                result.written[f"{schema}.{table}"] = how
                if share is not None:
                    result.bucketed[f"{schema}.{table}"] = share
                runlog.event(
                    "publish",
                    "table_published",
                    f"published {schema}.{table}: {int(n):,} rows ({how}"
                    + (f": {deleted:,} deleted, {inserted:,} inserted)" if how == "updated" else ")"),
                    table=f"{schema}.{table}",
                    rows=int(n),
                    written=how,
                    rows_deleted=deleted,
                    rows_inserted=inserted,
                    buckets_compared=None if share is None else round(share, 4),
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
                previous = _previous_files(published_dir) if reuse else None
                result.manifest = _export_parquet(
                    con, "dst", exported, staging, run_id, previous, result.parquet_reused
                )
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
        + (f"; removed old versions {', '.join(result.pruned)}" if result.pruned else "")
        + (
            f" (from the last serving file: {sum(w == 'unchanged' for w in result.written.values())} tables"
            f" unchanged, {sum(w == 'updated' for w in result.written.values())} updated in place;"
            f" {len(result.parquet_reused)} Parquet files linked)"
            if result.reused_serving
            else ""
        ),
        tables=len(result.row_counts),
        reused_serving=result.reused_serving,
        written=result.written,
        parquet_reused=result.parquet_reused,
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
