"""The `spark_cluster` target over a real Spark Thrift Server (method thrift, PyHive from the lock file).

The server is Spark's own HiveThriftServer2 from the venv's pyspark, started on a free loopback port with
its warehouse and Derby metastore in a temporary folder: the same wire protocol, session handling and
server-side SQL as a cluster's Thrift Server, on one machine. dbt talks to it only through the
environment variables profiles.yml documents (SPARK_METHOD, SPARK_HOST, SPARK_PORT, ...).

A full build over Thrift costs as much as the parity test again (16 min here), so this test builds the
slice that reads every landing table: two seeds, the 14 base -> staging + quarantine chains with their
tests, and one contracted mart (`quality_quarantine_summary`), which must equal DuckDB's and the planted
defects. A second test runs the incremental scenario of test_incremental.py (two daily deliveries)
over Thrift, where loads are replaced with insert_overwrite, against DuckDB's full refresh.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from engine_compare import compare, read_duckdb, read_spark
from incremental_scenario import SELECT as INCREMENTAL_SELECT
from incremental_scenario import make_deliveries

from insight_engine.dbt import run_dbt
from insight_engine.generate import generate

log = logging.getLogger(__name__)

# every landing table's base -> staging + quarantine chain, their seeds, and the tests of exactly these nodes
SELECTION = [
    "--select",
    "+quality_quarantine_summary path:models/staging",
    "--indirect-selection",
    "cautious",
]
SERVER_START_TIMEOUT_S = 240

pytestmark = pytest.mark.skipif(
    shutil.which("java") is None and not os.environ.get("JAVA_HOME"),
    reason="Spark needs Java (17) on PATH or JAVA_HOME",
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _spark_home() -> Path:
    import pyspark

    return Path(pyspark.__file__).parent


@pytest.fixture(scope="module")
def thrift_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, Path]]:
    """A Spark Thrift Server on loopback; yields (port, warehouse folder)."""
    work = tmp_path_factory.mktemp("thrift_server")
    port = _free_port()
    home = _spark_home()
    cmd = [
        str(home / "bin" / "spark-submit"),
        "--class",
        "org.apache.spark.sql.hive.thriftserver.HiveThriftServer2",
        "--master",
        "local[2]",
        "--driver-memory",
        "2g",
        "--conf",
        f"spark.sql.warehouse.dir={work / 'warehouse'}",
        "--conf",
        "spark.hadoop.javax.jdo.option.ConnectionURL="
        f"jdbc:derby:;databaseName={work / 'metastore_db'};create=true",
        "--conf",
        f"spark.hadoop.hive.server2.thrift.port={port}",
        "--conf",
        "spark.hadoop.hive.server2.thrift.bind.host=127.0.0.1",
        "--conf",
        "spark.sql.session.timeZone=UTC",
        "--conf",
        "spark.sql.shuffle.partitions=4",
        "--conf",
        "spark.ui.enabled=false",
        "--driver-java-options",
        f"-Dderby.system.home={work} -Duser.timezone=UTC",
        "spark-internal",
    ]
    server_log = work / "server.log"
    env = {**os.environ, "SPARK_HOME": str(home), "TZ": "UTC"}
    with server_log.open("w") as out:
        proc = subprocess.Popen(cmd, cwd=work, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT_S
        while True:
            if proc.poll() is not None:
                pytest.fail(f"Thrift Server exited with {proc.returncode}:\n{server_log.read_text()[-3000:]}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(
                        f"Thrift Server not listening after {SERVER_START_TIMEOUT_S} s; see {server_log}"
                    )
                time.sleep(1)
        log.info("Spark Thrift Server listening on 127.0.0.1:%s (log %s)", port, server_log)
        yield port, work / "warehouse"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()


def test_cluster_target_builds_over_thrift_and_matches_duckdb(
    thrift_server: tuple[int, Path], tmp_path: Path
) -> None:
    port, spark_warehouse = thrift_server
    raw = tmp_path / "raw"
    gen = generate(raw, scale="xs", seed=5, days=30, bad_rate=0.02)

    cluster_env = {
        "SPARK_METHOD": "thrift",
        "SPARK_HOST": "127.0.0.1",
        "SPARK_PORT": str(port),
        "SPARK_SCHEMA": "insight_engine",
        "SPARK_THREADS": "2",
        "DBT_LOG_PATH": str(tmp_path / "spark_logs"),
    }
    t = time.perf_counter()
    spark = run_dbt(
        ["build", *SELECTION],
        raw_root=raw,
        warehouse=tmp_path / "unused.duckdb",
        target_path=tmp_path / "spark_target",
        target="spark_cluster",
        extra_env=cluster_env,
    )
    log.info("dbt build %s over Thrift: %.0f s", " ".join(SELECTION), time.perf_counter() - t)
    assert spark.success, "dbt build over Thrift failed:\n  " + "\n  ".join(spark.failures[:20])
    results = json.loads((tmp_path / "spark_target" / "run_results.json").read_text())["results"]
    ran = {r["unique_id"].split(".")[0] for r in results}
    assert {"seed", "model", "test"} <= ran, f"the slice should run seeds, models and tests, ran {ran}"

    duck = run_dbt(
        ["build", *SELECTION],
        raw_root=raw,
        warehouse=tmp_path / "duck.duckdb",
        target_path=tmp_path / "duck_target",
    )
    assert duck.success, f"dbt build on DuckDB failed: {duck.failures[:5]}"

    relation = "quality.quality_quarantine_summary"
    on_spark = read_spark(spark_warehouse, relation)
    on_duck = read_duckdb(tmp_path / "duck.duckdb", relation)
    key = ["source_system", "source_table", "quarantine_reason", "load_date"]
    problems = compare(relation, key, on_duck, on_spark)
    assert not problems, "\n".join(problems)

    # independent of both engines: the defects quarantined on Spark, by table and reason, are the planted ones
    got = (
        on_spark[on_spark["is_defect"]]
        .groupby(["source_system", "source_table", "quarantine_reason"])["n_rows"]
        .sum()
        .to_dict()
    )
    planted = {(*key.split("."), kind): n for key, kinds in gen.bad.items() for kind, n in kinds.items() if n}
    assert {k: int(v) for k, v in got.items()} == planted


def test_incremental_runs_over_thrift_equal_a_full_refresh_on_duckdb(
    thrift_server: tuple[int, Path], tmp_path: Path
) -> None:
    """insert_overwrite by load on Spark: day 1 + an incremental day 2 == DuckDB's full refresh of day 2."""
    port, spark_warehouse = thrift_server
    day1, day2 = make_deliveries(tmp_path / "deliveries")
    cluster_env = {
        "SPARK_METHOD": "thrift",
        "SPARK_HOST": "127.0.0.1",
        "SPARK_PORT": str(port),
        "SPARK_THREADS": "2",
        "DBT_LOG_PATH": str(tmp_path / "spark_logs"),
    }
    # day 1 is the first load of this table (--full-refresh: the slice test above built it already)
    for day, raw, refresh in (("1", day1, ["--full-refresh"]), ("2", day2, [])):
        res = run_dbt(
            ["build", *INCREMENTAL_SELECT, *refresh],
            raw_root=raw,
            warehouse=tmp_path / "unused.duckdb",
            target_path=tmp_path / f"spark_target_{day}",
            target="spark_cluster",
            extra_env=cluster_env,
        )
        assert res.success, f"day {day} over Thrift failed:\n  " + "\n  ".join(res.failures[:20])
    compiled = next((tmp_path / "spark_target_2" / "compiled").rglob("base_web__events.sql")).read_text()
    assert "rewritten_loads" in compiled, "day 2 should have taken the incremental branch"

    full = run_dbt(
        ["build", *INCREMENTAL_SELECT],
        raw_root=day2,
        warehouse=tmp_path / "duck.duckdb",
        target_path=tmp_path / "duck_target",
    )
    assert full.success, full.failures
    problems: list[str] = []
    # the table (stg_web__events and qrn_web__events are views, nothing on disk to read back)
    for relation in ("staging.base_web__events",):
        on_duck = read_duckdb(tmp_path / "duck.duckdb", relation)
        on_spark = read_spark(spark_warehouse, relation)[list(on_duck.columns)]  # Spark puts partitions last
        problems += compare(relation, None, on_duck, on_spark)
    assert not problems, "\n".join(problems)
