"""Write-audit-publish: only an audited build reaches the serving file; a broken load changes nothing."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest
from warehouse_state import count_in_duckdb_1x_reader

from insight_engine import pipeline


def _paths(tmp: Path, raw: Path) -> pipeline.Paths:
    return pipeline.Paths(
        raw_root=raw,
        build_warehouse=tmp / "wh" / "insight_engine.duckdb",
        serving=tmp / "wh" / "serving.duckdb",
        publish_log=tmp / "wh" / "publish_log.duckdb",
        gates_dir=tmp / "gates",
        target_path=tmp / "target",
    )


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def published(xs_raw, tmp_path_factory) -> tuple[pipeline.Paths, pipeline.RunResult]:
    tmp = tmp_path_factory.mktemp("wap")
    paths = _paths(tmp, xs_raw)
    return paths, pipeline.run(paths)


def test_a_load_with_planted_defects_is_built_gated_and_published(published):
    paths, result = published
    assert result.published, f"{result.failed_gate}: {result.message}"
    assert paths.serving.exists()
    assert set(result.gates) == {"raw_gate", "dbt_build", "mart_gate"}


def test_serving_holds_only_bi_schemas(published):
    paths, _ = published
    with duckdb.connect(str(paths.serving), read_only=True) as con:
        schemas = {
            s
            for (s,) in con.execute("select distinct table_schema from information_schema.tables").fetchall()
        }
        (customers,) = con.execute("select count(*) from core.fct_customer").fetchone()
    assert schemas == {"core", "rox", "quality", "ops"}
    assert customers > 0


def test_publish_log_records_the_run(published):
    paths, result = published
    with duckdb.connect(str(paths.publish_log), read_only=True) as con:
        rows = con.execute(
            "select outcome, row_counts from publish_log where run_id = ?", [result.run_id]
        ).fetchall()
    assert rows and rows[0][0] == "published"
    assert '"core.fct_customer"' in rows[0][1]


def _break(raw: Path, dst: Path, table: str, column: str, retype: bool) -> Path:
    shutil.copytree(raw, dst)
    folder = sorted((dst / table).glob("load_date=*"))[-1]
    for f in folder.glob("*.parquet"):
        t = pq.read_table(f)
        if retype:  # bytes cannot hold a number (numeric text could: it is cast value by value)
            binary = t.column(column).cast("string").cast("binary")
            t = t.set_column(t.schema.get_field_index(column), column, binary)
        else:
            t = t.drop_columns([column])
        pq.write_table(t, f)
    return dst


@pytest.mark.parametrize(
    ("table", "column", "retype"),
    [("commerce/orders", "order_id", False), ("commerce/order_lines", "quantity", True)],
    ids=["missing-key-column", "bytes-where-a-number-is-due"],
)
def test_a_broken_file_stops_the_run_and_leaves_serving_untouched(published, tmp_path, table, column, retype):
    paths, _ = published
    before = _digest(paths.serving)
    broken = _break(paths.raw_root, tmp_path / "raw", table, column, retype)
    result = pipeline.run(
        pipeline.Paths(
            raw_root=broken,
            build_warehouse=tmp_path / "build.duckdb",
            serving=paths.serving,
            publish_log=paths.publish_log,
            gates_dir=tmp_path / "gates",
            target_path=tmp_path / "target",
        )
    )
    assert not result.published
    assert column in result.message
    assert _digest(paths.serving) == before
    with duckdb.connect(str(paths.publish_log), read_only=True) as con:
        (outcome,) = con.execute(
            "select outcome from publish_log where run_id = ?", [result.run_id]
        ).fetchone()
    assert outcome == "failed"


def test_a_failing_dbt_test_blocks_publishing(published, tmp_path):
    """Same data, but a dbt test that fails: the gate is the dbt build, serving keeps the last good file."""
    paths, _ = published
    before = _digest(paths.serving)
    result = pipeline.run(
        pipeline.Paths(
            raw_root=paths.raw_root,
            build_warehouse=tmp_path / "build.duckdb",
            serving=paths.serving,
            publish_log=paths.publish_log,
            gates_dir=tmp_path / "gates",
            target_path=tmp_path / "target",
        ),
        gates=False,
        dbt_vars={"nps_low_confidence_n": 30, "identity_max_iterations": 1},
    )
    assert not result.published and result.failed_gate == "dbt_build"
    assert _digest(paths.serving) == before


def test_serving_file_opens_in_an_older_duckdb_1x_reader(published):
    """BI drivers embed their own DuckDB 1.x: the serving file must open in one (1.1.3 here)."""
    paths, _ = published
    version, count = count_in_duckdb_1x_reader(paths.serving, "core.fct_customer")
    assert version.startswith("1.1") and count > 0
