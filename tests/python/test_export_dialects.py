"""The scheduled job on real-world exports: one world, written in every export dialect, published alike.

The generator writes the same world (people, orders, answers, planted defects; xs scale, 45 days, seed 7,
2% bad rows) in five dialects (``insight-engine generate --dialect``). For each, the test runs the job
exactly as a user would, gates on: ``insight-engine run --full-refresh`` in a subprocess, with the
``SOURCE_TIMEZONES`` the generator's manifest declares. Every dialect must exit 0 and publish
``serving.duckdb`` with its ``core``, ``rox`` and ``quality`` tables. What each dialect proves:

* ``iso`` (Parquet, ISO-8601 text with offsets): the baseline every dense dialect is compared with.
* ``naive`` (timestamps as wall-clock text without offset, in Sao Paulo, Istanbul, Tehran and UTC, as
  ``YYYY-MM-DD HH:MM:SS`` or ``YYYY-MM-DDTHH:MM:SS.ffffff``): the gate and ``read_source()`` read naive
  time in the declared zone (``SOURCE_TIMEZONES``), so every published table equals ``iso``'s.
* ``native`` (Parquet TIMESTAMP WITH TIME ZONE, naive wall-clock TIMESTAMP for crm, DATE, DECIMAL(18,2),
  INT32, BIGINT line numbers, BOOLEAN): compatible native types are accepted and give ``iso``'s tables.
  The one allowed difference: a planted unparseable timestamp cannot exist in a TIMESTAMP column (it is
  null), so ``quality.quality_quarantine_summary`` may split the quarantined rows of a table differently
  between ``unparseable_timestamp`` and ``missing_timestamp``, with the same total per table, and
  ``quality.quality_column_fill_rates`` may count fewer filled timestamp values.
* ``csv`` (CSV beside no Parquet at all: header row, RFC 4180 quoting of comments with newlines, quotes,
  emoji and RTL text, ``''`` as null, a UTF-8 BOM on some tables, web events as ``.csv.gz``): CSV landing
  files are read like Parquet and give ``iso``'s tables.
* ``sparse`` (a small shop: no ``unit_cost`` or phone columns, no web events or cases folders, CSAT as the
  only survey metric, one backfill load, no ``_loaded_at``): the job still publishes, and missing inputs
  stay missing: no cost gives a null margin, never 0, and the coverage mart shows the gaps.

One generate + run per dialect, shared through a session fixture and run one at a time (about a minute
each on two cores). A run that fails is reported with the job's own output.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd
import pytest
import yaml
from engine_compare import BI_SCHEMAS, compare, read_duckdb

PROJECT_DIR = Path(__file__).resolve().parents[2]
CLI = Path(sys.executable).with_name("insight-engine")
SEED, DAYS, BAD_RATE = 7, 45, 0.02
DENSE = ("naive", "native", "csv")
RUN_TIMEOUT_S = 900
# what a native TIMESTAMP does to a planted unparseable timestamp: the row is quarantined all the same
TIMESTAMP_REASONS = frozenset({"unparseable_timestamp", "missing_timestamp"})


@dataclass(frozen=True)
class DialectRun:
    dialect: str
    raw: Path
    warehouse_dir: Path
    manifest: dict
    returncode: int
    output: str
    seconds: float

    @property
    def serving(self) -> Path:
        return self.warehouse_dir / "serving.duckdb"

    @property
    def published(self) -> bool:
        return self.returncode == 0 and self.serving.exists()

    def why(self) -> str:
        """The end of the job's output, long lines cut (a failed gate lists every expectation)."""
        lines = [ln if len(ln) <= 600 else ln[:600] + " ..." for ln in self.output.strip().splitlines()]
        tail = "\n".join(lines[-25:])
        return f"`insight-engine run` on the {self.dialect} dialect exited {self.returncode}:\n{tail}"

    def tables(self) -> dict[str, list[str]]:
        """Published tables by schema."""
        with duckdb.connect(str(self.serving), read_only=True) as con:
            rows = con.execute("select schema_name, table_name from duckdb_tables() order by 1, 2").fetchall()
        out: dict[str, list[str]] = {}
        for schema, name in rows:
            out.setdefault(schema, []).append(name)
        return out

    def query(self, sql: str) -> list[tuple]:
        with duckdb.connect(str(self.serving), read_only=True) as con:
            con.execute("set TimeZone = 'UTC'")
            return con.execute(sql).fetchall()

    def columns(self, relation: str) -> list[str]:
        with duckdb.connect(str(self.serving), read_only=True) as con:
            return [r[0] for r in con.execute(f"describe {relation}").fetchall()]


def _cli(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(CLI), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=RUN_TIMEOUT_S
    )


@pytest.fixture(scope="session")
def dialect_run(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], DialectRun]:
    """Generate a dialect and run the scheduled job on it, once per session (one job at a time)."""
    done: dict[str, DialectRun] = {}

    def run(dialect: str) -> DialectRun:
        if dialect in done:
            return done[dialect]
        work = tmp_path_factory.mktemp(f"dialect_{dialect}")
        raw, warehouse_dir = work / "raw", work / "warehouse"
        # the job as a user runs it, from this test's folder: gate results (build/gates) and dbt logs stay
        # here; dbt's target/ is the project's (`insight-engine run` has no option to move it)
        env = {**os.environ, "TZ": "UTC", "DBT_LOG_PATH": str(work / "logs")}
        env.pop("SOURCE_TIMEZONES", None)
        started = time.perf_counter()
        gen = _cli(
            [
                "generate",
                *("--scale", "xs", "--seed", str(SEED), "--days", str(DAYS)),
                *("--bad-rate", str(BAD_RATE), "--dialect", dialect, "--out", str(raw)),
            ],
            work,
            env,
        )
        assert gen.returncode == 0, f"generate --dialect {dialect} failed:\n{gen.stdout}\n{gen.stderr}"
        manifest = json.loads((raw / "_manifest.json").read_text())
        assert manifest["dialect"] == dialect
        if manifest["source_timezones"]:
            env["SOURCE_TIMEZONES"] = manifest["source_timezones"]
        job = _cli(
            ["run", "--full-refresh", "--raw-root", str(raw), "--warehouse-dir", str(warehouse_dir)],
            work,
            env,
        )
        done[dialect] = DialectRun(
            dialect=dialect,
            raw=raw,
            warehouse_dir=warehouse_dir,
            manifest=manifest,
            returncode=job.returncode,
            output=job.stdout + job.stderr,
            seconds=round(time.perf_counter() - started, 1),
        )
        print(f"\n{dialect}: generate + run {done[dialect].seconds}s, exit {job.returncode}")
        return done[dialect]

    return run


def published(dialect_run: Callable[[str], DialectRun], dialect: str) -> DialectRun:
    run = dialect_run(dialect)
    assert run.published, run.why()
    return run


def assert_publishes_every_schema(run: DialectRun) -> None:
    dialect, tables = run.dialect, run.tables()
    for schema in BI_SCHEMAS:
        assert tables.get(schema), f"{dialect}: nothing published in schema {schema}: {tables}"
    assert {"fct_customer", "fct_orders"} <= set(tables["core"]), tables["core"]
    assert {"rox_data_coverage", "rox_closed_loop", "rox_alerts"} <= set(tables["rox"]), tables["rox"]
    assert "quality_quarantine_summary" in tables["quality"], tables["quality"]


# ---------------------------------------------------------------------------------------- dense dialects
# (before sparse, so that `pytest -x` reports on them even while the sparse run fails)
@pytest.mark.parametrize("dialect", ("iso", *DENSE))
def test_the_scheduled_job_publishes(dialect_run, dialect: str) -> None:
    assert_publishes_every_schema(published(dialect_run, dialect))


def mart_keys() -> dict[str, list[str]]:
    """Model -> the columns of its `unique` / `unique_combination_of_columns` test, from the marts' YAML."""
    keys: dict[str, list[str]] = {}
    for path in sorted((PROJECT_DIR / "models" / "marts").rglob("*.yml")):
        for model in (yaml.safe_load(path.read_text()) or {}).get("models") or []:
            for test in model.get("data_tests") or model.get("tests") or []:
                if isinstance(test, dict):
                    name, body = next(iter(test.items()))
                    if name.split(".")[-1] == "unique_combination_of_columns":
                        body = body or {}
                        cols = (body.get("arguments") or body).get("combination_of_columns")
                        if cols:
                            keys.setdefault(model["name"], list(cols))
            for column in model.get("columns") or []:
                tests = column.get("data_tests") or column.get("tests") or []
                if any(t == "unique" or (isinstance(t, dict) and "unique" in t) for t in tests):
                    keys.setdefault(model["name"], [column["name"]])
    return keys


def compare_published(iso: DialectRun, other: DialectRun) -> list[str]:
    """Every published table of `other` against `iso`'s: columns, row count, every value."""
    problems: list[str] = []
    mine, theirs = iso.tables(), other.tables()
    keys = mart_keys()
    for schema in BI_SCHEMAS:
        if mine.get(schema) != theirs.get(schema):
            problems.append(
                f"{schema}: iso publishes {mine.get(schema)}, {other.dialect} {theirs.get(schema)}"
            )
        for name in sorted(set(mine.get(schema, [])) & set(theirs.get(schema, []))):
            relation = f"{schema}.{name}"
            a, b = read_duckdb(iso.serving, relation), read_duckdb(other.serving, relation)
            if relation == "quality.quality_quarantine_summary" and other.dialect == "native":
                problems += compare_quarantine_native(a, b)
                continue
            if relation == "quality.quality_column_fill_rates" and other.dialect == "native":
                problems += compare_fill_rates_native(a, b)
                continue
            problems += [_names(p, other.dialect) for p in compare(relation, keys.get(name), a, b)]
    return problems


def _names(problem: str, dialect: str) -> str:
    """engine_compare speaks of DuckDB (left) and Spark (right): here they are iso and the dialect."""
    for left, right in (("DuckDB", "Spark"), ("duckdb", "spark")):
        problem = problem.replace(left, "iso").replace(right, dialect)
    return problem


def compare_quarantine_native(iso: pd.DataFrame, native: pd.DataFrame) -> list[str]:
    """native: the same quarantine, except unparseable vs missing timestamps; equal totals per table."""
    problems: list[str] = []
    table = ["source_system", "source_table"]
    totals = [
        df.groupby(table)["n_rows"].sum().rename(name) for df, name in ((iso, "iso"), (native, "native"))
    ]
    both = pd.concat(totals, axis=1).fillna(0)
    for (system, name), row in both[both["iso"] != both["native"]].iterrows():
        problems.append(
            f"quality_quarantine_summary {system}.{name}: {int(row['iso'])} rows quarantined on iso, "
            f"{int(row['native'])} on native"
        )

    def split(df: pd.DataFrame, reasons: bool) -> pd.DataFrame:
        return df[df["quarantine_reason"].isin(TIMESTAMP_REASONS) == reasons].reset_index(drop=True)

    relation = "quality.quality_quarantine_summary"
    key = ["source_system", "source_table", "quarantine_reason", "load_date"]
    others = compare(f"{relation} (other reasons)", key, split(iso, False), split(native, False))
    per_day = [*table, "load_date"]
    ts = [split(df, True).groupby(per_day)["n_rows"].sum().reset_index() for df in (iso, native)]
    timestamps = compare(f"{relation} (timestamp reasons, summed)", per_day, *ts)
    return problems + [_names(p, "native") for p in others + timestamps]


def compare_fill_rates_native(iso: pd.DataFrame, native: pd.DataFrame) -> list[str]:
    """native: the same fill rates, except of timestamp and date columns, where a planted unparseable
    value cannot exist (it is null): there only the rows delivered must agree."""
    from insight_engine import contract

    dated = {
        (t.system, t.name, c.name)
        for t in contract.tables().values()
        for c in t.columns
        if c.family in ("timestamp", "date")
    }

    def is_dated(df: pd.DataFrame) -> pd.Series:
        keys = zip(df["source_system"], df["source_table"], df["column_name"], strict=True)
        return pd.Series([k in dated for k in keys], index=df.index)

    relation = "quality.quality_column_fill_rates"
    key = ["source_system", "source_table", "column_name"]
    rest = [df[~is_dated(df)].reset_index(drop=True) for df in (iso, native)]
    rows = [df[is_dated(df)][[*key, "n_rows"]].reset_index(drop=True) for df in (iso, native)]
    problems = compare(f"{relation} (other columns)", key, *rest)
    problems += compare(f"{relation} (timestamp columns, rows)", key, *rows)
    return [_names(p, "native") for p in problems]


@pytest.mark.parametrize("dialect", DENSE)
def test_dense_dialect_publishes_what_iso_publishes(dialect_run, dialect: str) -> None:
    iso = published(dialect_run, "iso")
    other = published(dialect_run, dialect)
    problems = compare_published(iso, other)
    assert not problems, f"{dialect} vs iso, {len(problems)} difference(s):\n  " + "\n  ".join(problems[:40])


# ---------------------------------------------------------------------------------------- sparse
@pytest.fixture(scope="session")
def sparse(dialect_run) -> DialectRun:
    return published(dialect_run, "sparse")


def test_sparse_landing_zone_is_what_a_small_shop_sends(dialect_run) -> None:
    sparse = dialect_run("sparse")  # the files, whatever the job made of them
    assert not (sparse.raw / "web" / "events").exists()
    assert not (sparse.raw / "crm" / "cases").exists()
    folders = {p.name for p in sparse.raw.glob("*/*/load_date=*")}
    assert folders == {f"load_date={sparse.manifest['end_date']}"}


def test_the_scheduled_job_publishes_a_sparse_export(sparse: DialectRun) -> None:
    assert_publishes_every_schema(sparse)


def test_sparse_customer_margin_is_unknown_not_zero(sparse: DialectRun) -> None:
    n, with_revenue, margins, zero_margins = sparse.query(
        """
        select
            count(*),
            count(*) filter (where net_revenue_amount <> 0),
            count(gross_margin_amount),
            count(*) filter (where gross_margin_amount = 0)
        from core.fct_customer
        """
    )[0]
    assert n > 0 and with_revenue > 0, "fct_customer should hold customers with revenue"
    # an export without any cost measures no margin, not even the 0 of a customer without orders
    assert margins == 0, (
        f"core.fct_customer.gross_margin_amount is known for {margins} of {n} customers "
        f"({zero_margins} of them 0), but the export has no unit_cost: every margin must be null"
    )


def margin_and_revenue_columns(columns: list[str]) -> tuple[list[str], list[str]]:
    margins = [c for c in columns if "margin" in c and "margin_of_error" not in c and not c.endswith("_pct")]
    revenues = [c for c in columns if "net_revenue" in c and not c.endswith("_pct")]
    return margins, revenues


def test_sparse_no_published_margin_is_invented(sparse: DialectRun) -> None:
    """No cost, no margin: a margin column may be null, or 0 only where the row's revenue is 0 or null."""
    # fails when a model turns a missing input into a 0 (e.g. a coalesce(..., 0) on a margin or cost)
    tables = sparse.tables()
    checked, problems = [], []
    for schema in ("core", "rox"):
        for name in tables.get(schema, []):
            relation = f"{schema}.{name}"
            margins, revenues = margin_and_revenue_columns(sparse.columns(relation))
            for margin in margins:
                checked.append(f"{relation}.{margin}")
                no_revenue = " and ".join(f"coalesce({r}, 0) = 0" for r in revenues) or "false"
                bad, zero_with_revenue, total = sparse.query(
                    f"""
                    select
                        count(*) filter (where {margin} is not null and not ({margin} = 0 and {no_revenue})),
                        count(*) filter (where {margin} = 0 and not ({no_revenue})),
                        count(*)
                    from {relation}
                    """
                )[0]
                if bad:
                    problems.append(
                        f"{relation}.{margin}: {bad} of {total} rows hold a margin without any cost data "
                        f"({zero_with_revenue} of them 0 beside non-zero {', '.join(revenues) or 'revenue'})"
                    )
    assert any(c.startswith("rox.") for c in checked), f"no margin column found in rox: {checked}"
    assert not problems, "\n".join(problems)


def test_sparse_coverage_shows_the_missing_data(sparse: DialectRun) -> None:
    rows = sparse.query(
        "select data_type, journey_stage, n_rows, is_gap from rox.rox_data_coverage order by 1, 2"
    )
    by_type: dict[str, dict[str, tuple[int, bool]]] = {}
    for data_type, stage, n_rows, is_gap in rows:
        by_type.setdefault(data_type, {})[stage] = (n_rows, is_gap)
    assert by_type.get("behavioural"), f"rox_data_coverage has no behavioural rows: {rows}"
    assert all(gap and n == 0 for n, gap in by_type["behavioural"].values()), (
        f"no web events were delivered, yet behavioural coverage is {by_type['behavioural']}"
    )
    # service = support cases and CRM interactions: cases (and the contacts about them) are absent, so the
    # support stage has no service data; onboarding, marketing and follow-up contacts may remain elsewhere
    support = by_type.get("service", {}).get("support")
    assert support is not None and support[1] and support[0] == 0, (
        f"no cases were delivered, yet service coverage of the support stage is {support}"
    )
    assert any(not gap for _, gap in by_type["transactional"].values()), "orders were delivered"


def test_sparse_closed_loop_and_alerts_build(sparse: DialectRun) -> None:
    for relation in ("rox.rox_closed_loop", "rox.rox_alerts", "rox.rox_scorecard_daily"):
        (n,) = sparse.query(f"select count(*) from {relation}")[0]
        assert n >= 0, relation
    # CSAT is the only metric: the scorecard holds no NPS or CES, and that is not an error
    nps_columns = [c for c in sparse.columns("rox.rox_scorecard_daily") if c.startswith("n_nps")]
    for column in nps_columns:
        (total,) = sparse.query(f"select coalesce(sum({column}), 0) from rox.rox_scorecard_daily")[0]
        assert total == 0, f"rox_scorecard_daily.{column} counts NPS answers the export never had"
