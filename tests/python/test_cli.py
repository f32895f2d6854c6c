"""The CLI's build command picks a profiles.yml target and says clearly what is wrong with its input."""

from __future__ import annotations

import os
from pathlib import Path
from types import SimpleNamespace
from typing import ClassVar

import pytest
from click.testing import CliRunner

from insight_engine import dbt as dbt_module
from insight_engine.cli import main


class _FakeRunner:
    """Stands in for dbtRunner: records the environment dbt would see, runs nothing."""

    seen: ClassVar[dict[str, str]] = {}

    def invoke(self, cli: list[str]) -> SimpleNamespace:
        _FakeRunner.seen = {
            k: os.environ[k] for k in ("RAW_ROOT", "DBT_TARGET", "SPARK_BUILD_DIR") if k in os.environ
        }
        _FakeRunner.seen["cli"] = " ".join(cli)
        return SimpleNamespace(success=True, result=None, exception=None)


@pytest.fixture
def fake_dbt(monkeypatch: pytest.MonkeyPatch) -> type[_FakeRunner]:
    monkeypatch.setattr(dbt_module, "dbtRunner", _FakeRunner)
    monkeypatch.delenv("SPARK_BUILD_DIR", raising=False)
    return _FakeRunner


def test_build_on_spark_without_a_landing_zone_says_what_to_do(tmp_path: Path, fake_dbt) -> None:
    missing = tmp_path / "nope"
    res = CliRunner().invoke(main, ["build", "--target", "spark_local", "--raw-root", str(missing)])
    assert res.exit_code != 0
    assert f"--raw-root {missing} does not exist" in res.output
    assert "RAW_ROOT" in res.output
    assert fake_dbt.seen == {}  # dbt never started


def test_build_passes_the_target_and_an_absolute_landing_zone(
    tmp_path: Path, fake_dbt, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "raw").mkdir()
    monkeypatch.chdir(tmp_path)
    res = CliRunner().invoke(
        main, ["build", "--target", "spark_local", "--raw-root", "raw", "--warehouse-dir", "wh"]
    )
    assert res.exit_code == 0, res.output
    assert fake_dbt.seen["DBT_TARGET"] == "spark_local"
    assert fake_dbt.seen["RAW_ROOT"] == str(tmp_path / "raw")
    assert Path(fake_dbt.seen["SPARK_BUILD_DIR"]).is_absolute()
    assert "built target spark_local" in res.output


@pytest.mark.parametrize(
    "url", ["s3a://bucket/raw", "abfss://c@acct.dfs.core.windows.net/raw", "dbfs:/mnt/raw"]
)
def test_object_storage_landing_zones_reach_spark_unchanged(tmp_path: Path, fake_dbt, url: str) -> None:
    res = dbt_module.run_dbt(
        ["build"], raw_root=url, warehouse=tmp_path / "unused.duckdb", target="spark_cluster"
    )
    assert res.success
    assert fake_dbt.seen["RAW_ROOT"] == url
    assert fake_dbt.seen["DBT_TARGET"] == "spark_cluster"
    assert "RAW_ROOT" not in os.environ or os.environ["RAW_ROOT"] != url  # restored afterwards
