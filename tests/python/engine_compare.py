"""Compare marts built by two engines: DuckDB file vs Parquet folders of a Spark warehouse.

Shared by the Spark parity test (`spark_local`) and the Spark Thrift Server test (`spark_cluster`).
Numbers must agree within a floating tolerance, everything else exactly; rows are joined on the model's
key (the columns of its `unique` / `unique_combination_of_columns` test).
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

BI_SCHEMAS = ("core", "rox", "quality")
ABS_TOL = 1e-6
REL_TOL = 1e-9


def bi_marts(manifest: dict) -> dict[str, dict]:
    """Tables in the BI schemas, by `schema.name`."""
    return {
        f"{n['schema']}.{n['name']}": n
        for n in manifest["nodes"].values()
        if n["resource_type"] == "model"
        and n["schema"] in BI_SCHEMAS
        and n["config"]["materialized"] in ("table", "incremental")
    }


def key_columns(manifest: dict, node: dict) -> list[str] | None:
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


def normalise(df: pd.DataFrame) -> pd.DataFrame:
    """Decimals -> float, timestamps -> naive UTC, so both engines' frames compare column by column."""
    out = df.copy()
    for col in out.columns:
        s = out[col]
        if isinstance(s.dtype, pd.DatetimeTZDtype):
            out[col] = s.dt.tz_convert("UTC").dt.tz_localize(None)
        elif s.dtype == object and s.map(lambda v: isinstance(v, Decimal)).any():
            out[col] = s.map(lambda v: float(v) if v is not None else np.nan).astype("float64")
    return out


def read_duckdb(warehouse: Path, relation: str) -> pd.DataFrame:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        con.execute("set TimeZone = 'UTC'")
        return normalise(con.execute(f"select * from {relation}").df())


def read_spark(warehouse_dir: Path, relation: str) -> pd.DataFrame:
    schema, name = relation.split(".")
    folder = warehouse_dir / f"{schema}.db" / name
    files = sorted(folder.rglob("*.parquet"))
    assert files, f"no Parquet files for {relation} under {folder}"
    with duckdb.connect() as con:
        con.execute("set TimeZone = 'UTC'")
        # a partitioned table keeps its partition column in the folder names (load_date=...)
        df = con.execute(
            f"select * from read_parquet({[str(f) for f in files]!r}, hive_partitioning = true)"
        ).df()
    return normalise(df)


def compare(relation: str, key: list[str] | None, duck: pd.DataFrame, spark: pd.DataFrame) -> list[str]:
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
