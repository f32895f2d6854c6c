"""rox_alerts on generated data: silent on steady data, fires on a planted experience dip.

The xs session warehouse has 120 days of history, fewer than one alert needs (a 30-day current
window, the 90 days before it, and a streak of 7 breach days: 126 days), so steadiness is also tested
where an alert is possible: s-scale data (10,000 people, about 100 delivery NPS answers per 30 days)
over 180 days, generated twice with the same seed, once as is and once with a planted dip.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from insight_engine.dbt import run_dbt
from insight_engine.generate import generate

SEED = 7
DAYS = 180
BAD_RATE = 0.02
DIP_TOUCHPOINT = "TP-DELIVERY"
DIP_DAYS = 30
DIP_POINTS = 4.0
# the alert chain only: upstream tests whose other parents are not built are left out (cautious);
# unit tests do not depend on the data and run in the full build
BUILD = [
    "build",
    "--select",
    "+rox_alerts",
    "--indirect-selection",
    "cautious",
    "--exclude-resource-type",
    "unit_test",
]
ALERT_HISTORY_DAYS = 30 + 90 + 7 - 1


def _build(work: Path, target: Path, nps_dip: tuple[str, int, float] | None) -> Path:
    raw = work / "raw"
    generate(raw, scale="s", seed=SEED, days=DAYS, bad_rate=BAD_RATE, nps_dip=nps_dip)
    warehouse = work / "warehouse.duckdb"
    result = run_dbt(BUILD, raw_root=raw, warehouse=warehouse, target_path=target)
    assert result.success, f"dbt build of +rox_alerts failed: {result.failures}"
    return warehouse


def _query(warehouse: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql).fetchall()


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One dbt target folder for both builds, so the second one reuses the parsed project."""
    return tmp_path_factory.mktemp("rox_alerts_target")


@pytest.fixture(scope="module")
def steady(tmp_path_factory: pytest.TempPathFactory, target: Path) -> Path:
    return _build(tmp_path_factory.mktemp("rox_steady"), target, nps_dip=None)


@pytest.fixture(scope="module")
def dipped(tmp_path_factory: pytest.TempPathFactory, target: Path) -> Path:
    return _build(tmp_path_factory.mktemp("rox_dip"), target, nps_dip=(DIP_TOUCHPOINT, DIP_DAYS, DIP_POINTS))


def test_xs_history_is_too_short_for_any_alert(xs):
    [(n_days,)] = xs.query("select count(distinct date_day) from rox.rox_scorecard_daily")
    assert n_days < ALERT_HISTORY_DAYS
    assert xs.query("select count(*) from rox.rox_alerts where alert_type = 'nps_drop'") == [(0,)]


def test_steady_data_raises_no_alert(steady):
    assert _query(steady, "select alert_type, dimension, dimension_value from rox.rox_alerts") == []


def test_steady_data_is_evaluated(steady):
    """The silence above is not for lack of data: the dip's touchpoint has 30+ answers on both sides."""
    [(n_days, min_n)] = _query(
        steady,
        f"""
        select count(*), min(n_nps_30d) from (
            select date_day, sum(n_nps_30d) as n_nps_30d
            from rox.rox_scorecard_daily
            where touchpoint_id = '{DIP_TOUCHPOINT}'
            group by date_day
        ) as daily
        where date_day >= (select min(date_day) + {30 + 90 - 1} from rox.rox_scorecard_daily)
        """,
    )
    assert n_days >= DIP_DAYS
    assert min_n >= 30


def test_planted_dip_raises_an_nps_drop_alert_for_its_touchpoint(dipped):
    alerts = _query(
        dipped,
        "select alert_type, dimension, dimension_value from rox.rox_alerts where dimension = 'touchpoint'",
    )
    assert ("nps_drop", "touchpoint", DIP_TOUCHPOINT) in alerts


def test_dip_alert_starts_inside_the_dip_and_is_ongoing(dipped):
    [(breach_start, alert_date, last_date, is_ongoing, difference, moe)] = _query(
        dipped,
        f"""
        select
            breach_start_date,
            alert_date,
            (select max(date_day) from rox.rox_scorecard_daily),
            is_ongoing,
            value_difference,
            difference_margin_of_error
        from rox.rox_alerts
        where alert_type = 'nps_drop' and dimension_value = '{DIP_TOUCHPOINT}'
        """,
    )
    assert (last_date - breach_start).days < DIP_DAYS
    assert alert_date <= last_date
    assert is_ongoing
    assert difference < -moe
