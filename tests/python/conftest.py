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
