"""The RoX statistics find what the generator planted, and nothing it did not.

Two worlds, one seed, scale s (540 days, so 12-month outcomes and 180-day uplift windows complete), built
with the same SQL as the warehouse (``rox_drivers``, ``rox_experience_uplift`` and everything upstream):

* **planted**: answers about marketplace orders lose 4 NPS points (a planted driver); customers move to
  the app as they buy more, and the channel does nothing (a confounded driver); the latent satisfaction
  does not change how long customers stay, and experience has no effect on later buying;
* **effect**: the same world, plus a causal effect of the experience on later buying: orders after a
  promoter experience are worth 30% more, after a detractor one 30% less (order counts unchanged).

The generator's knobs are in :class:`insight_engine.generator.world.Knobs`. The two worlds differ only in the
prices of orders placed after an answer, so the same customers are compared in both, and the uplift the
effect plants in this estimand is the difference of the two estimates: ``planted = uplift(effect) -
uplift(planted)``. The tests check that the planted-only world's interval covers 0 (and its placebo
passes), that the effect world's interval covers the planted shift and excludes 0, and that order
counts, which the knob leaves alone, do not move.

These are statistical checks on one seed: each interval has a 5% chance to miss. Measured over seeds
(closing note of issue 12): the uplift checks held on 7, 11 and 23; the confounded driver's adjusted
difference shrank to 22% and -34% of the crude one on seeds 7 and 11 but kept 75% on seed 23: residual
confounding that strata of prior orders do not remove. The seed is fixed, so the test is deterministic.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from insight_engine.dbt import run_dbt
from insight_engine.generate import Knobs, generate

SEED = 7
WINDOW_DAYS = 180
PLANTED = Knobs(marketplace_penalty=4.0, app_for_frequent_buyers=True, churn_by_satisfaction=0.0)
WITH_EFFECT = Knobs(
    marketplace_penalty=4.0, app_for_frequent_buyers=True, churn_by_satisfaction=0.0, experience_effect=0.3
)


def _build(work: Path, knobs: Knobs) -> Path:
    raw = work / "raw"
    generate(raw, scale="s", seed=SEED, knobs=knobs)
    warehouse = work / "warehouse.duckdb"
    result = run_dbt(
        [
            "build",
            "--select",
            "+rox_drivers",
            "+rox_experience_uplift",
            "--indirect-selection",
            "cautious",
            "--vars",
            f"{{rox_uplift_window_days: {WINDOW_DAYS}}}",
        ],
        raw_root=raw,
        warehouse=warehouse,
        target_path=work / "target",
    )
    assert result.success, f"dbt build failed on the planted world: {result.failures}"
    return warehouse


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> Iterator[duckdb.DuckDBPyConnection]:
    warehouse = _build(tmp_path_factory.mktemp("planted"), PLANTED)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        yield con


@pytest.fixture(scope="module")
def effect(tmp_path_factory: pytest.TempPathFactory) -> Iterator[duckdb.DuckDBPyConnection]:
    warehouse = _build(tmp_path_factory.mktemp("effect"), WITH_EFFECT)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        yield con


def _driver(con: duckdb.DuckDBPyConnection, outcome: str, driver: str, level: str) -> dict:
    cur = con.execute(
        "select * from rox.rox_drivers where outcome = ? and driver = ? and driver_level = ?",
        [outcome, driver, level],
    )
    names = [d[0] for d in cur.description]
    rows = cur.fetchall()
    assert len(rows) == 1, f"expected one {driver}={level} row for {outcome}, got {len(rows)}"
    return dict(zip(names, rows[0], strict=True))


def _uplift(con: duckdb.DuckDBPyConnection, metric: str, outcome: str) -> dict:
    cur = con.execute(
        "select * from rox.rox_experience_uplift where experience_metric = ? and outcome = ?",
        [metric, outcome],
    )
    names = [d[0] for d in cur.description]
    (row,) = cur.fetchall()
    return dict(zip(names, row, strict=True))


def test_planted_driver_ranks_first_with_its_sign(planted: duckdb.DuckDBPyConnection) -> None:
    top = planted.execute(
        "select driver, driver_level, adjusted_difference from rox.rox_drivers "
        "where outcome = 'nps_score' and effect_rank = 1"
    ).fetchall()
    assert len(top) == 1
    driver, level, adjusted = top[0]
    assert (driver, level) == ("order_channel", "marketplace"), f"top NPS driver is {driver}={level}"
    # planted: -4 points before rounding and clipping to 0-10, so between -4 and about -2.5
    assert -4.5 < adjusted < -2.5, adjusted
    row = _driver(planted, "nps_score", "order_channel", "marketplace")
    assert row["adjusted_ci_high"] < 0 and row["is_adjusted_significant"]
    # CSAT got the planted penalty / 2.5; effort was left alone, and the mart finds no effect of that size
    csat = _driver(planted, "csat_score", "order_channel", "marketplace")
    assert csat["effect_rank"] == 1 and csat["adjusted_difference"] < -1.0, csat
    ces = _driver(planted, "ces_score", "order_channel", "marketplace")
    assert abs(ces["adjusted_difference"]) < 0.5, ces


def test_confounded_driver_is_adjusted_to_about_zero(planted: duckdb.DuckDBPyConnection) -> None:
    """App orders go with higher 12-month value only because customers with many orders use the app and
    buy more; within strata of prior orders the difference should vanish."""
    row = _driver(planted, "net_revenue_12m_amount", "order_channel", "app")
    assert row["difference_ci_low"] > 0, f"the crude difference should show the confounding: {row}"
    assert row["adjusted_ci_low"] <= 0 <= row["adjusted_ci_high"], row
    assert abs(row["adjusted_difference"]) < 0.35 * row["difference_of_means"], row
    assert row["adjustment_method"].startswith("stratified by orders in the 12 months")


def test_no_effect_no_uplift(planted: duckdb.DuckDBPyConnection) -> None:
    row = _uplift(planted, "nps", "net_revenue")
    assert row["n_positive"] >= 300 and row["n_negative"] >= 300, row
    assert row["uplift_ci_low"] <= 0 <= row["uplift_ci_high"], row
    assert row["is_uplift_significant"] is False
    assert row["is_placebo_passed"] is True, row


def test_planted_effect_is_recovered(
    planted: duckdb.DuckDBPyConnection, effect: duckdb.DuckDBPyConnection
) -> None:
    base = _uplift(planted, "nps", "net_revenue")
    row = _uplift(effect, "nps", "net_revenue")
    # the same customers in both worlds: the knob changes prices after the answer, nothing else
    assert (row["n_positive"], row["n_negative"]) == (base["n_positive"], base["n_negative"])
    shift = row["uplift"] - base["uplift"]
    assert shift > 0
    assert row["uplift_ci_low"] <= shift <= row["uplift_ci_high"], (shift, row)
    assert row["is_uplift_significant"] is True and row["uplift_ci_low"] > 0
    assert row["is_placebo_passed"] is True
    # spending per order changed, the number of orders did not
    orders, base_orders = _uplift(effect, "nps", "orders"), _uplift(planted, "nps", "orders")
    assert orders["uplift"] == pytest.approx(base_orders["uplift"], abs=1e-9)
