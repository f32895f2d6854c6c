"""Session fixtures: one generated xs landing zone and one warehouse built from it, shared by the tests."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from insight_engine.dbt import run_dbt
from insight_engine.generate import generate

PROJECT_DIR = Path(__file__).resolve().parents[2]
BAD_RATE = 0.02


@dataclass(frozen=True)
class Built:
    raw_root: Path
    warehouse: Path
    manifest: dict

    def query(self, sql: str) -> list[tuple]:
        with duckdb.connect(str(self.warehouse), read_only=True) as con:
            return con.execute(sql).fetchall()

    def raw(self, sql: str) -> list[tuple]:
        """Query the landing zone directly; `{raw}` in the SQL is the raw root."""
        with duckdb.connect() as con:
            return con.execute(sql.replace("{raw}", str(self.raw_root))).fetchall()


@pytest.fixture(scope="session")
def xs_raw(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("xs") / "raw"
    generate(out, scale="xs", seed=7, bad_rate=BAD_RATE)
    return out


@pytest.fixture(scope="session")
def xs45_raw(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A short xs landing zone (45 days, no planted defects) for tests that run the whole scheduled job."""
    out = tmp_path_factory.mktemp("xs45") / "raw"
    generate(out, scale="xs", seed=7, days=45)
    return out


@pytest.fixture(scope="session")
def xs(xs_raw: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Built]:
    """The xs landing zone (2% planted bad rows) built with `dbt build` (all dbt tests must pass)."""
    work = tmp_path_factory.mktemp("xs_build")
    warehouse = work / "warehouse.duckdb"
    result = run_dbt(
        ["build"],
        raw_root=xs_raw,
        warehouse=warehouse,
        target_path=work / "target",
    )
    assert result.success, f"dbt build failed on the xs data: {result.failures}"
    manifest = json.loads((xs_raw / "_manifest.json").read_text())
    yield Built(raw_root=xs_raw, warehouse=warehouse, manifest=manifest)


@pytest.fixture(scope="session")
def s_build(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Built]:
    """Scale s (540 days, so 12-month windows complete) built with `dbt build`: for the RoX marts."""
    work = tmp_path_factory.mktemp("s_build")
    raw = work / "raw"
    generate(raw, scale="s", seed=7, bad_rate=BAD_RATE)
    warehouse = work / "warehouse.duckdb"
    result = run_dbt(["build"], raw_root=raw, warehouse=warehouse, target_path=work / "target")
    assert result.success, f"dbt build failed on the s data: {result.failures}"
    manifest = json.loads((raw / "_manifest.json").read_text())
    yield Built(raw_root=raw, warehouse=warehouse, manifest=manifest)


@pytest.fixture(autouse=True)
def _utc() -> None:
    os.environ["TZ"] = "UTC"


@dataclass(frozen=True)
class HostileJob:
    """The scheduled job (`insight-engine run`) over the hostile landing zone (hostile_zone.py)."""

    raw: Path
    work: Path
    rc: int
    stdout: str
    stderr: str

    @property
    def warehouse_dir(self) -> Path:
        return self.work / "warehouse"

    @property
    def gates_dir(self) -> Path:
        return self.work / "gates"

    @property
    def dbt_logs(self) -> Path:
        return self.work / "dbt_logs"

    def connect(self, serving: bool = False) -> duckdb.DuckDBPyConnection:
        name = "serving.duckdb" if serving else "insight_engine.duckdb"
        return duckdb.connect(str(self.warehouse_dir / name), read_only=True)

    def raw_count(self, folder: Path) -> int:
        """Rows in a table folder of the landing zone, Parquet and CSV files alike."""
        from insight_engine import contract

        n = 0
        with duckdb.connect() as con:
            if list(folder.glob("*/*.parquet")):
                n += con.execute(f"select count(*) from read_parquet('{folder}/*/*.parquet')").fetchone()[0]
            if list(folder.glob("*/*.csv")):
                n += con.execute(
                    f"select count(*) from {contract.csv_reader_sql(f'{folder}/*/*.csv')}"
                ).fetchone()[0]
        return n


@pytest.fixture(scope="session")
def hostile_job(tmp_path_factory: pytest.TempPathFactory) -> HostileJob:
    """Every row-level hostile case in one xs zone (45 days), run once by the scheduled job with its gates."""
    import subprocess
    import sys

    from hostile_zone import build_hostile_zone

    work = tmp_path_factory.mktemp("hostile")
    raw = build_hostile_zone(work / "raw")
    env = {
        **os.environ,
        "PYTHONPATH": str(PROJECT_DIR),
        "TZ": "UTC",
        "DBT_LOG_PATH": str(work / "dbt_logs"),
    }
    # human logs (what cron captures): dbt then logs every node to the console and to DBT_LOG_PATH/dbt.log
    cmd = [sys.executable, "-m", "insight_engine.cli", "run"]
    for flag, path in [
        ("--raw-root", raw),
        ("--warehouse-dir", work / "warehouse"),
        ("--gates-dir", work / "gates"),
        ("--target-path", work / "target"),
    ]:
        cmd += [flag, str(path)]
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=900, cwd=PROJECT_DIR)
    return HostileJob(raw=raw, work=work, rc=done.returncode, stdout=done.stdout, stderr=done.stderr)
