"""BI serving: every publish writes serving.duckdb and a Parquet version with a manifest, switched in
atomically; readers running during repeated publishes never fail and always see one whole version."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from insight_engine import duck
from insight_engine import publish as pub

PUBLISHES = 5  # while the readers run
KEEP = 3

# A reader process: loops until the stop file exists, one JSON line per read. "duckdb" opens
# serving.duckdb read-only and counts every table of the BI schemas; "parquet" follows
# published/CURRENT -> manifest.json -> files, counts the rows and checks each file's sha256.
READER = r"""
import hashlib, json, sys, time
from pathlib import Path
import duckdb

kind, warehouse, out, stop = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3]), Path(sys.argv[4])
published = warehouse / "published"
with out.open("w") as log:
    while not stop.exists():
        started = time.perf_counter()
        try:
            if kind == "duckdb":
                con = duckdb.connect(str(warehouse / "serving.duckdb"), read_only=True)
                try:
                    tables = con.execute(
                        "select table_schema, table_name from information_schema.tables "
                        "where table_schema in ('core', 'rox', 'quality')"
                    ).fetchall()
                    counts = {
                        f"{s}.{t}": con.execute(f'select count(*) from "{s}"."{t}"').fetchone()[0]
                        for s, t in tables
                    }
                finally:
                    con.close()
                read = {"ok": True, "counts": counts}
            else:
                run_id = (published / "CURRENT").read_text().strip()
                version = published / run_id
                manifest = json.loads((version / "manifest.json").read_text())
                con = duckdb.connect()
                counts, bad = {}, []
                for t in manifest["tables"]:
                    path = version / t["path"]
                    if hashlib.sha256(path.read_bytes()).hexdigest() != t["sha256"]:
                        bad.append(t["path"])
                    q = "select count(*) from read_parquet('" + str(path) + "')"
                    counts[t["schema"] + "." + t["table"]] = con.execute(q).fetchone()[0]
                con.close()
                read = {"ok": not bad, "run_id": run_id, "counts": counts, "bad_sha256": bad}
        except Exception as exc:
            read = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
        read["seconds"] = round(time.perf_counter() - started, 4)
        log.write(json.dumps(read) + "\n")
        log.flush()
        time.sleep(0.02)
"""


@dataclass
class Published:
    warehouse: Path
    build: Path
    results: list[pub.PublishResult]
    reads: dict[str, list[dict]]
    publish_seconds: list[float]

    @property
    def manifests(self) -> dict[str, dict]:
        return {r.run_id: r.manifest for r in self.results if r.manifest is not None}


def _counts(manifest: dict, schemas: tuple[str, ...] = pub.SERVING_SCHEMAS) -> dict[str, int]:
    return {f"{t['schema']}.{t['table']}": t["rows"] for t in manifest["tables"] if t["schema"] in schemas}


def _shrink(build: Path, step: int) -> None:
    """Make the next version differ from the last: a few rows fewer in two marts."""
    with duckdb.connect(str(build)) as con:
        for table in ("core.fct_orders", "rox.rox_scorecard_daily"):
            con.execute(f"delete from {table} where rowid in (select rowid from {table} limit {step})")


@pytest.fixture(scope="module")
def published(xs, tmp_path_factory: pytest.TempPathFactory) -> Published:
    work = tmp_path_factory.mktemp("serving")
    warehouse = work / "warehouse"
    warehouse.mkdir()
    build = work / "build.duckdb"
    shutil.copyfile(xs.warehouse, build)
    serving = warehouse / "serving.duckdb"

    def publish() -> pub.PublishResult:
        return pub.publish(build, serving, run_id=pub.new_run_id(), keep_versions=KEEP)

    results = [publish()]  # the version readers find when they start
    script = work / "reader.py"
    script.write_text(READER)
    stop = work / "stop"
    kinds = {"duckdb-1": "duckdb", "duckdb-2": "duckdb", "parquet": "parquet"}
    procs = {
        name: subprocess.Popen(
            [sys.executable, str(script), kind, str(warehouse), str(work / f"{name}.jsonl"), str(stop)]
        )
        for name, kind in kinds.items()
    }
    publish_seconds = []
    try:
        deadline = time.monotonic() + 60
        while not all((work / f"{n}.jsonl").exists() and (work / f"{n}.jsonl").stat().st_size for n in kinds):
            assert time.monotonic() < deadline, "the reader processes did not start reading within 60 s"
            time.sleep(0.1)
        for step in range(1, PUBLISHES + 1):
            _shrink(build, step)
            t = time.perf_counter()
            results.append(publish())
            publish_seconds.append(round(time.perf_counter() - t, 2))
        time.sleep(0.5)  # let every reader read the last version too
    finally:
        stop.touch()
        for proc in procs.values():
            proc.wait(timeout=60)
    reads = {
        name: [json.loads(line) for line in (work / f"{name}.jsonl").read_text().splitlines()]
        for name in kinds
    }
    return Published(warehouse, build, results, reads, publish_seconds)


def test_readers_during_repeated_publishes_see_whole_versions_and_never_fail(published: Published) -> None:
    manifests = published.manifests
    versions = [_counts(m) for m in manifests.values()]
    assert len(versions) == PUBLISHES + 1
    # every version differs from the others, so "equals one manifest" pins the version down
    assert len({json.dumps(v, sort_keys=True) for v in versions}) == len(versions)
    summary = {}
    for name, reads in published.reads.items():
        errors = [r for r in reads if not r["ok"]]
        assert reads, f"{name} made no read"
        assert not errors, f"{name}: {len(errors)} of {len(reads)} reads failed, e.g. {errors[:3]}"
        seen = set()
        for read in reads:
            if name == "parquet":
                assert read["run_id"] in manifests, f"CURRENT named {read['run_id']}, not a published version"
                assert read["counts"] == _counts(manifests[read["run_id"]], (*pub.SERVING_SCHEMAS, "ops"))
                seen.add(read["run_id"])
            else:
                match = [run_id for run_id, m in manifests.items() if _counts(m) == read["counts"]]
                assert match, f"{name} read row counts that match no published version: {read['counts']}"
                seen.add(match[0])
        summary[name] = (len(reads), len(seen))
    print(f"\nreads (count, versions seen): {summary}; publish seconds: {published.publish_seconds}")
    # the readers really overlapped the publishes: together they saw more than one version
    assert sum(n for _, n in summary.values()) > len(summary)


def test_each_version_is_parquet_with_a_manifest_of_rows_columns_and_checksums(published: Published) -> None:
    last = published.results[-1]
    assert last.version_dir is not None and last.manifest is not None
    names = {(t["schema"], t["table"]) for t in last.manifest["tables"]}
    with duckdb.connect(str(published.warehouse / "serving.duckdb"), read_only=True) as con:
        serving_tables = set(
            con.execute("select table_schema, table_name from information_schema.tables").fetchall()
        )
    assert names == serving_tables  # the same tables as serving.duckdb (ops.publish_log only if logged)
    assert {s for s, _ in names} <= {*pub.SERVING_SCHEMAS, "ops"}  # never restricted, staging, quarantine
    for t in last.manifest["tables"]:
        path = last.version_dir / t["path"]
        assert path == last.version_dir / t["schema"] / f"{t['table']}.parquet"
        assert hashlib.sha256(path.read_bytes()).hexdigest() == t["sha256"]
        meta = pq.read_metadata(path)
        assert meta.num_rows == t["rows"]
        assert [c["name"] for c in t["columns"]] == meta.schema.to_arrow_schema().names
        assert t["content_checksum"].startswith(f"{pub.CHECKSUM_ALGORITHM}:")
    assert last.manifest["run_id"] == last.run_id


def test_current_names_the_newest_version_and_old_ones_are_pruned(published: Published) -> None:
    folder = published.warehouse / pub.PUBLISHED_DIR
    newest = published.results[-1].run_id
    assert (folder / pub.CURRENT_FILE).read_text().strip() == newest
    assert os.readlink(folder / pub.CURRENT_LINK) == newest
    assert pub.versions(folder) == [r.run_id for r in published.results[-KEEP:]]
    assert not list(folder.glob(".*")), "a temporary file or folder was left behind"


def test_a_failed_publish_changes_neither_serving_nor_current(
    published: Published, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    serving = published.warehouse / "serving.duckdb"
    folder = published.warehouse / pub.PUBLISHED_DIR

    def state() -> tuple[str, str | None, list[str]]:
        digest = hashlib.sha256(serving.read_bytes()).hexdigest()
        return digest, pub.current_version(folder), pub.versions(folder)

    before = state()

    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(pub, "_export_parquet", disk_full)
    with pytest.raises(OSError, match="No space left"):
        pub.publish(published.build, serving, run_id=pub.new_run_id(), keep_versions=KEEP)
    assert state() == before
    assert not list(folder.glob(".*")) and not list(published.warehouse.glob(".*.tmp"))


def test_superset_reads_the_serving_file_through_duckdb_engine(published: Published) -> None:
    """Superset's connection: a SQLAlchemy URI for duckdb-engine, read-only."""
    sqlalchemy = pytest.importorskip("sqlalchemy")
    uri = f"duckdb:///{published.warehouse / 'serving.duckdb'}?access_mode=read_only"
    engine = sqlalchemy.create_engine(uri)
    try:
        with engine.connect() as conn:
            (n,) = conn.execute(sqlalchemy.text("select count(*) from rox.rox_scorecard_daily")).one()
            # duckdb-engine names schemas with their catalog: "serving.rox"
            schemas = {s.split(".")[-1] for s in sqlalchemy.inspect(conn).get_schema_names()}
            tables = set(sqlalchemy.inspect(conn).get_table_names(schema="rox"))
            with pytest.raises(sqlalchemy.exc.SQLAlchemyError, match="read-only"):
                conn.execute(sqlalchemy.text("create table rox.scratch as select 1 as x"))
    finally:
        engine.dispose()
    assert n == _counts(published.results[-1].manifest)["rox.rox_scorecard_daily"]
    assert {"core", "rox", "quality"} <= schemas and "restricted" not in schemas
    assert "rox_scorecard_daily" in tables


def test_publish_holds_duckdb_to_the_profiles_memory_limit(
    published: Published, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Publish's connection gets DUCKDB_MEMORY_LIMIT (as dbt and the gates do), not 80% of the RAM."""
    seen: list[str] = []
    real_export = pub._export_parquet

    def export(con: duckdb.DuckDBPyConnection, *args, **kwargs):
        (setting,) = con.execute("select current_setting('memory_limit')").fetchone()
        seen.append(setting)
        return real_export(con, *args, **kwargs)

    monkeypatch.setattr(pub, "_export_parquet", export)
    monkeypatch.setenv("DUCKDB_MEMORY_LIMIT", "1GB")
    serving = tmp_path / "serving.duckdb"
    pub.publish(published.build, serving, run_id=pub.new_run_id(), published_dir=tmp_path / "published")
    # DuckDB reports 1GB (10^9 bytes) in binary units
    assert seen == ["953.6 MiB"]

    monkeypatch.setenv("DUCKDB_MEMORY_LIMIT", "lots")
    with pytest.raises(ValueError, match="DUCKDB_MEMORY_LIMIT='lots'"):
        pub.publish(published.build, serving, run_id=pub.new_run_id(), published_dir=tmp_path / "published")


def test_the_profile_and_the_job_default_to_the_same_memory_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    """dbt reads the limit from profiles.yml, the gates and publish from insight_engine/duck.py: without
    DUCKDB_MEMORY_LIMIT both must give the same default, or the nightly job's budget is split unevenly."""
    monkeypatch.delenv(duck.MEMORY_LIMIT_ENV, raising=False)
    profile = (Path(__file__).parents[2] / "profiles.yml").read_text()
    defaults = re.findall(r"env_var\('DUCKDB_MEMORY_LIMIT', '([^']+)'\)", profile)
    assert defaults == [duck.memory_limit()], (defaults, duck.memory_limit())


def test_dbt_runs_one_node_at_a_time_only_on_a_warehouse_larger_than_duckdbs_memory_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two dbt nodes share one DuckDB limit: past it the job runs them one at a time; DBT_THREADS wins."""
    monkeypatch.delenv(duck.DBT_THREADS_ENV, raising=False)
    monkeypatch.setenv(duck.MEMORY_LIMIT_ENV, "1MB")
    warehouse = tmp_path / "insight_engine.duckdb"
    assert duck.dbt_threads(warehouse)[0] == 2, "no warehouse yet (a first build)"
    warehouse.write_bytes(b"x" * 1_000_000)
    assert duck.dbt_threads(warehouse)[0] == 2, "exactly the limit (1MB = 10^6 bytes, as DuckDB reads it)"
    warehouse.write_bytes(b"x" * 1_000_001)
    threads, reason = duck.dbt_threads(warehouse)
    assert threads == 1 and "larger than DuckDB's memory limit (1MB)" in reason
    monkeypatch.setenv(duck.MEMORY_LIMIT_ENV, "1MiB")  # 1,048,576 bytes
    assert duck.dbt_threads(warehouse)[0] == 2
    monkeypatch.setenv(duck.DBT_THREADS_ENV, "3")
    assert duck.dbt_threads(warehouse) == (3, "DBT_THREADS=3")
    for bad in ("0", "two", "-1"):
        monkeypatch.setenv(duck.DBT_THREADS_ENV, bad)
        with pytest.raises(ValueError, match="whole number of dbt threads"):
            duck.dbt_threads(warehouse)
    assert [duck.size_bytes(t) for t in ("4GB", "4 GiB", "6000MB", "512", "lots")] == [
        4 * 10**9,
        4 * 2**30,
        6 * 10**9,
        512,
        None,
    ]


def test_the_profile_defaults_to_the_jobs_dbt_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    """dbt run by hand reads DBT_THREADS' default from profiles.yml; the job's default must be the same."""
    profile = (Path(__file__).parents[2] / "profiles.yml").read_text()
    defaults = re.findall(r"env_var\('DBT_THREADS', '([^']+)'\)", profile)
    assert defaults == [str(duck.DEFAULT_DBT_THREADS)], defaults


def test_the_content_checksum_ignores_row_order_and_float_noise_not_changed_values(tmp_path: Path) -> None:
    """The manifest's checksum: equal for the same rows in any order, for doubles that differ in their last
    bit and for the table's own Parquet export; different when a value, a NULL or a duplicate row changes."""
    con = duckdb.connect()
    rows = [
        (1, "a", 0.1 + 0.2, "2026-01-01", "2026-01-01 10:00:00", True, "12.50"),
        (2, "ä ş", -0.0, "2026-02-28", None, False, None),
        (3, None, 109.895, None, "2026-03-01 00:00:00", None, "-3.00"),
    ]
    ddl = "(id integer, s varchar, x double, d date, ts timestamp, b boolean, amount decimal(18, 2))"

    def checksum(name: str, table_rows: list[tuple]) -> str:
        con.execute(f"create or replace table {name} {ddl}")
        con.executemany(f"insert into {name} values (?, ?, ?, ?, ?, ?, ?)", table_rows)
        columns = con.execute(
            "select column_name, data_type from information_schema.columns where table_name = ? "
            "order by ordinal_position",
            [name],
        ).fetchall()
        return pub.content_checksum(con, name, columns)

    base = checksum("t", rows)
    # named by the DuckDB release whose hash() computed it: an upgrade reads as another algorithm
    major, minor = duckdb.__version__.split(".")[:2]
    assert base.startswith(f"duckdb{major}.{minor}-hash64:") and base.startswith(f"{pub.CHECKSUM_ALGORITHM}:")
    assert checksum("t_reversed", rows[::-1]) == base
    # the noise of a parallel sum: 0.30000000000000004 against 0.3, 0.0 against -0.0
    assert checksum("t_noise", [(1, "a", 0.3, *rows[0][3:]), (2, "ä ş", 0.0, *rows[1][3:]), rows[2]]) == base
    assert checksum("t_value", [rows[0], rows[1], (3, None, 109.896, *rows[2][3:])]) != base
    assert checksum("t_null", [rows[0], (2, "ä ş", -0.0, "2026-02-28", None, None, None), rows[2]]) != base
    assert checksum("t_dup", [*rows, rows[0]]) != base
    assert checksum("t_swap", [(2, "a", *rows[0][2:]), (1, "ä ş", *rows[1][2:]), rows[2]]) != base

    # the Parquet export (what the manifest describes) gives the table's value back
    path = tmp_path / "t.parquet"
    con.execute(f"copy t to '{path}' (format parquet, compression zstd)")
    columns = con.execute(
        "select column_name, data_type from information_schema.columns where table_name = 't' "
        "order by ordinal_position"
    ).fetchall()
    assert pub.content_checksum(con, f"read_parquet('{path}')", columns) == base
