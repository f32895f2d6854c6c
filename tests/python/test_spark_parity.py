"""Spark parity: the same landing zone built on DuckDB and on Spark (target spark_local) gives the same marts.

Every table in the BI schemas (core, rox, quality) is compared: row count, key set (the columns of its
`unique` / `unique_combination_of_columns` test), and every column of every row joined on the key:
numbers within a floating tolerance, everything else exactly. The Spark build is a full `dbt build`, so
its dbt tests (generic, singular, unit, contracts) must pass on Spark as well.

Spark runs in a subprocess (its JVM and the embedded Derby metastore are not shared with the rest of the
suite: one Spark dbt process at a time). The Spark marts are read back with DuckDB straight from the
Parquet files of the Spark warehouse, so the comparison needs no second Spark session.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from insight_engine.dbt import run_dbt
from insight_engine.generate import generate

log = logging.getLogger(__name__)

# A smaller landing zone than the session's xs build: Spark's cost is per query and per file, not per row.
PARITY_DAYS = 45
PARITY_SEED = 11
BAD_RATE = 0.02
BI_SCHEMAS = ("core", "rox", "quality")
ABS_TOL = 1e-6
REL_TOL = 1e-9

pytestmark = pytest.mark.skipif(
    shutil.which("java") is None and not os.environ.get("JAVA_HOME"),
    reason="Spark needs Java (17) on PATH or JAVA_HOME",
)


@dataclass(frozen=True)
class ParityBuilds:
    duckdb_warehouse: Path
    spark_warehouse_dir: Path
    manifest: dict
    seconds: dict[str, float]


_SPARK_BUILD = """
import json, sys
from pathlib import Path
from insight_engine.dbt import run_dbt
raw, work = Path(sys.argv[1]), Path(sys.argv[2])
res = run_dbt(
    ["build"],
    raw_root=raw,
    warehouse=work / "unused.duckdb",
    target_path=work / "target",
    target="spark_local",
    extra_env={"SPARK_BUILD_DIR": str(work / "spark")},
)
(work / "result.json").write_text(json.dumps({"success": res.success, "failures": res.failures}))
"""


@pytest.fixture(scope="module")
def parity(tmp_path_factory: pytest.TempPathFactory) -> ParityBuilds:
    work = tmp_path_factory.mktemp("spark_parity")
    raw = work / "raw"
    generate(raw, scale="xs", seed=PARITY_SEED, days=PARITY_DAYS, bad_rate=BAD_RATE)
    seconds: dict[str, float] = {}

    t = time.perf_counter()
    duck = run_dbt(["build"], raw_root=raw, warehouse=work / "duck.duckdb", target_path=work / "duck_target")
    seconds["duckdb"] = time.perf_counter() - t
    assert duck.success, f"dbt build on DuckDB failed: {duck.failures}"

    spark_work = work / "spark_build"
    spark_work.mkdir()
    env = {**os.environ, "TZ": "UTC", "PYTHONUNBUFFERED": "1"}
    t = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", _SPARK_BUILD, str(raw), str(spark_work)],
        cwd=spark_work,  # anything Spark still writes to the working directory lands here
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    seconds["spark"] = time.perf_counter() - t
    log.info("build seconds at xs/%s days: %s", PARITY_DAYS, seconds)
    result_file = spark_work / "result.json"
    assert result_file.exists(), f"Spark build crashed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    result = json.loads(result_file.read_text())
    assert result["success"], "dbt build on Spark failed:\n  " + "\n  ".join(result["failures"][:20])
    manifest = json.loads((spark_work / "target" / "manifest.json").read_text())
    return ParityBuilds(
        duckdb_warehouse=work / "duck.duckdb",
        spark_warehouse_dir=spark_work / "spark" / "warehouse",
        manifest=manifest,
        seconds=seconds,
    )


def _bi_marts(manifest: dict) -> dict[str, dict]:
    """Tables in the BI schemas, by `schema.name`."""
    return {
        f"{n['schema']}.{n['name']}": n
        for n in manifest["nodes"].values()
        if n["resource_type"] == "model"
        and n["schema"] in BI_SCHEMAS
        and n["config"]["materialized"] in ("table", "incremental")
    }


def _key_columns(manifest: dict, node: dict) -> list[str] | None:
    """The columns a `unique` or `unique_combination_of_columns` test says identify a row."""
    for test in manifest["nodes"].values():
        if test["resource_type"] != "test" or test.get("attached_node") != node["unique_id"]:
            continue
        meta = test.get("test_metadata") or {}
        kwargs = meta.get("kwargs") or {}
        if meta.get("name") == "unique" and kwargs.get("column_name"):
            return [kwargs["column_name"]]
        if meta.get("name") == "unique_combination_of_columns":
            cols = kwargs.get("combination_of_columns")
            if cols:
                return list(cols)
    return None


def _normalise(df: pd.DataFrame) -> pd.DataFrame:
    """Decimals -> float, timestamps -> naive UTC, so both engines' frames compare column by column."""
    out = df.copy()
    for col in out.columns:
        s = out[col]
        if isinstance(s.dtype, pd.DatetimeTZDtype):
            out[col] = s.dt.tz_convert("UTC").dt.tz_localize(None)
        elif s.dtype == object and s.map(lambda v: isinstance(v, Decimal)).any():
            out[col] = s.map(lambda v: float(v) if v is not None else np.nan).astype("float64")
    return out


def _read_duckdb(warehouse: Path, relation: str) -> pd.DataFrame:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        con.execute("set TimeZone = 'UTC'")
        return _normalise(con.execute(f"select * from {relation}").df())


def _read_spark(warehouse_dir: Path, relation: str) -> pd.DataFrame:
    schema, name = relation.split(".")
    folder = warehouse_dir / f"{schema}.db" / name
    files = sorted(folder.rglob("*.parquet"))
    assert files, f"no Parquet files for {relation} under {folder}"
    with duckdb.connect() as con:
        con.execute("set TimeZone = 'UTC'")
        df = con.execute(f"select * from read_parquet({[str(f) for f in files]!r})").df()
    return _normalise(df)


def _compare(relation: str, key: list[str] | None, duck: pd.DataFrame, spark: pd.DataFrame) -> list[str]:
    problems: list[str] = []
    if list(duck.columns) != list(spark.columns):
        return [f"{relation}: columns differ: duckdb {list(duck.columns)} vs spark {list(spark.columns)}"]
    if len(duck) != len(spark):
        problems.append(f"{relation}: {len(duck)} rows on DuckDB, {len(spark)} on Spark")
    cols = list(duck.columns)
    if key:
        dk = set(map(tuple, duck[key].astype(str).to_numpy()))
        sk = set(map(tuple, spark[key].astype(str).to_numpy()))
        if dk != sk:
            only_d, only_s = sorted(dk - sk)[:3], sorted(sk - dk)[:3]
            problems.append(f"{relation}: key sets differ; only DuckDB {only_d}, only Spark {only_s}")
            return problems
        duck = duck.sort_values(key).reset_index(drop=True)
        spark = spark.sort_values(key).reset_index(drop=True)
    else:
        order = [c for c in cols if not pd.api.types.is_float_dtype(duck[c])] or cols
        duck = duck.sort_values(order, na_position="last").reset_index(drop=True)
        spark = spark.sort_values(order, na_position="last").reset_index(drop=True)
    if problems:
        return problems
    for col in cols:
        d, s = duck[col], spark[col]
        if (
            pd.api.types.is_numeric_dtype(d)
            and pd.api.types.is_numeric_dtype(s)
            and not (pd.api.types.is_bool_dtype(d) or pd.api.types.is_bool_dtype(s))
        ):
            dv, sv = d.to_numpy(dtype="float64"), s.to_numpy(dtype="float64")
            same = np.isclose(dv, sv, rtol=REL_TOL, atol=ABS_TOL, equal_nan=True)
        else:
            dn, sn = d.isna().to_numpy(), s.isna().to_numpy()
            same = (dn & sn) | (~dn & ~sn & (d.astype(str).to_numpy() == s.astype(str).to_numpy()))
        if not same.all():
            i = int(np.flatnonzero(~same)[0])
            where = {k: duck.loc[i, k] for k in key} if key else f"row {i}"
            problems.append(
                f"{relation}.{col}: {int((~same).sum())} of {len(same)} rows differ, "
                f"e.g. at {where}: duckdb {d.iloc[i]!r} vs spark {s.iloc[i]!r}"
            )
    return problems


def test_every_bi_mart_is_built_on_both_engines(parity: ParityBuilds) -> None:
    marts = _bi_marts(parity.manifest)
    assert {"core.fct_customer", "core.fct_orders", "quality.quality_quarantine_summary"} <= set(marts)
    with duckdb.connect(str(parity.duckdb_warehouse), read_only=True) as con:
        built = {
            f"{s}.{t}"
            for s, t in con.execute("select schema_name, table_name from duckdb_tables()").fetchall()
        }
    assert set(marts) <= built, f"missing on DuckDB: {sorted(set(marts) - built)}"
    spark_built = {
        f"{p.parent.name.removesuffix('.db')}.{p.name}" for p in parity.spark_warehouse_dir.glob("*.db/*")
    }
    assert set(marts) <= spark_built, f"missing on Spark: {sorted(set(marts) - spark_built)}"


def test_bi_marts_have_the_same_rows_and_numbers_on_duckdb_and_spark(parity: ParityBuilds) -> None:
    problems: list[str] = []
    for relation, node in sorted(_bi_marts(parity.manifest).items()):
        key = _key_columns(parity.manifest, node)
        duck = _read_duckdb(parity.duckdb_warehouse, relation)
        spark = _read_spark(parity.spark_warehouse_dir, relation)
        problems += _compare(relation, key, duck, spark)
    assert not problems, "DuckDB and Spark marts differ:\n  " + "\n  ".join(problems)


def test_spark_build_time_is_reported(parity: ParityBuilds) -> None:
    """Not a benchmark: records the two build times (see README "Running on Spark") in the test log."""
    log.warning(
        "dbt build at xs/%s days: DuckDB %.0f s, Spark %.0f s",
        PARITY_DAYS,
        parity.seconds["duckdb"],
        parity.seconds["spark"],
    )
    assert parity.seconds["spark"] > 0
