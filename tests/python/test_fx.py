"""Exchange rates: ECB monthly averages, the seed in the repo, and the generator on the same numbers.

Pure Python, no dbt build.
"""

from __future__ import annotations

import csv
import socket
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from insight_engine import fx

PROJECT_DIR = Path(__file__).resolve().parents[2]
SEED = PROJECT_DIR / "seeds" / "currency_rates.csv"

# Monthly averages published by the ECB (units of the currency per EUR), ECB Data Portal, dataset EXR,
# series EXR.M.<CUR>.EUR.SP00.A ("ECB reference exchange rate, <currency>/Euro, 2.15 pm (C.E.T.)",
# monthly average), as returned by the ECB data API (data-api.ecb.europa.eu/service/data/EXR/...).
# They are the ECB's own figures, not computed here from the bundled daily file.
ECB_MONTHLY_PER_EUR = {
    ("USD", "2020-01"): 1.1100363636364,
    ("USD", "2020-02"): 1.0905,
    ("USD", "2020-03"): 1.1063409090909,
    ("USD", "2020-04"): 1.08619,
    ("USD", "2020-05"): 1.090185,
    ("USD", "2025-01"): 1.0353727272727,
    ("GBP", "2025-01"): 0.8390809090909,
    ("USD", "2025-02"): 1.04125,
    ("USD", "2026-07"): 1.1417478260869562,
    ("BRL", "2026-07"): 5.844895652173915,
    ("USD", "2026-08"): 1.1593095238095241,
}


def _seed() -> list[dict[str, str]]:
    with SEED.open(newline="") as f:
        return list(csv.DictReader(f))


def _seed_rate(currency: str, month: str) -> float:
    (row,) = [r for r in _seed() if r["currency_code"] == currency and r["rate_month"] == f"{month}-01"]
    return float(row["units_per_usd"])


# (a) the seed holds the ECB's published monthly averages -----------------------------------------


@pytest.mark.parametrize("month", sorted(m for c, m in ECB_MONTHLY_PER_EUR if c == "USD"))
def test_seed_eur_rate_is_the_inverse_of_the_published_usd_per_eur_average(month):
    published = 1 / ECB_MONTHLY_PER_EUR[("USD", month)]
    # the seed averages the daily inverses, the ECB the daily rates: equal to well within 0.05 %
    assert _seed_rate("EUR", month) == pytest.approx(published, rel=5e-4)


@pytest.mark.parametrize(("currency", "month"), [("GBP", "2025-01"), ("BRL", "2026-07")])
def test_seed_cross_rate_matches_the_published_averages(currency, month):
    published = ECB_MONTHLY_PER_EUR[(currency, month)] / ECB_MONTHLY_PER_EUR[("USD", month)]
    assert _seed_rate(currency, month) == pytest.approx(published, rel=5e-4)


def test_bundled_daily_history_averages_to_the_published_figures():
    """The file the package ships is the ECB's: its daily rates average to the ECB's monthly figures."""
    daily = fx._read_daily()
    for (currency, month), published in ECB_MONTHLY_PER_EUR.items():
        days = [v for d, v in daily[currency].items() if d.isoformat()[:7] == month]
        assert len(days) >= 19, (currency, month)
        assert float(sum(days) / len(days)) == pytest.approx(published, rel=1e-9), (currency, month)


# (b) the seed in the repo is what fx writes ------------------------------------------------------


def test_seed_file_is_what_fx_writes():
    assert SEED.read_text() == fx.seed_csv(), "refresh it with `make refresh-fx`, do not edit it by hand"


def test_refresh_command_prints_the_seed():
    out = subprocess.run(
        [sys.executable, "-m", "insight_engine.fx"],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert out == SEED.read_text()


def test_rates_come_from_the_bundled_file_without_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("fx must not use the network")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    fx.monthly_rates.cache_clear()
    try:
        assert fx.seed_csv() == SEED.read_text()
    finally:
        fx.monthly_rates.cache_clear()


def test_seed_columns_and_coverage():
    rows = _seed()
    assert list(rows[0]) == list(fx.SEED_COLUMNS)
    first = {c: min(r["rate_month"] for r in rows if r["currency_code"] == c) for c in fx.CURRENCIES}
    last = {c: max(r["rate_month"] for r in rows if r["currency_code"] == c) for c in fx.CURRENCIES}
    # the ECB publishes TRY from 2005-01-03 and BRL from 2008-01-02
    assert first == dict(
        USD="1999-01-01", EUR="1999-01-01", GBP="1999-01-01", TRY="2005-01-01", BRL="2008-01-01"
    )
    assert set(last.values()) == {fx.LAST_MONTH.isoformat()}
    keys = [(r["currency_code"], r["rate_month"]) for r in rows]
    assert len(keys) == len(set(keys))
    assert {r["units_per_usd"] for r in rows if r["currency_code"] == "USD"} == {"1.0"}


# (c) carry-forward after the last published month; real, irregular data before it ----------------


def test_months_after_the_last_published_month_are_carried_forward():
    rows = _seed()
    real = [r for r in rows if r["is_carried_forward"] == "false"]
    carried = [r for r in rows if r["is_carried_forward"] == "true"]
    assert {r["is_carried_forward"] for r in rows} == {"true", "false"}
    last_real = max(r["rate_month"] for r in real)
    assert carried, "the horizon should reach past the bundled data"
    assert min(r["rate_month"] for r in carried) > last_real
    assert all(int(r["fixing_days"]) == 0 for r in carried)
    assert all(int(r["fixing_days"]) >= 15 for r in real)
    last_rates = {r["currency_code"]: r["units_per_usd"] for r in real if r["rate_month"] == last_real}
    assert set(last_rates) == set(fx.CURRENCIES)
    for r in carried:
        assert r["units_per_usd"] == last_rates[r["currency_code"]]
    # the last real month is the last complete month of the bundled data
    year, month = fx._last_complete_month(max(fx._read_daily()["USD"]))
    assert last_real == f"{year:04d}-{month:02d}-01"


def test_rates_follow_real_history():
    # the lira's slide: TRY per USD more than doubled from January 2022 to December 2023
    assert _seed_rate("TRY", "2023-12") > 2 * _seed_rate("TRY", "2022-01")
    assert _seed_rate("TRY", "2022-12") > 1.3 * _seed_rate("TRY", "2022-01")
    # EUR/USD parity in autumn 2022: a dollar bought more than one euro
    assert _seed_rate("EUR", "2022-10") > 1.0
    # the day-to-day data makes month-on-month moves irregular, unlike a smooth formula
    eur = [float(r["units_per_usd"]) for r in _seed() if r["currency_code"] == "EUR"]
    steps = np.diff(np.log(eur[:300]))
    assert (np.diff(np.sign(steps)) != 0).sum() > 100


def test_last_complete_month_waits_for_the_last_weekday():
    from datetime import date

    assert fx._last_complete_month(date(2026, 10, 30)) == (2026, 10)  # Fri; 31 is a Saturday
    assert fx._last_complete_month(date(2026, 10, 29)) == (2026, 9)  # Fri 30 still to come
    assert fx._last_complete_month(date(2026, 12, 31)) == (2026, 12)


# (d) the generator prices with the seed's numbers ---------------------------------------------------


def test_generator_rates_match_the_seed_for_sampled_timestamps():
    rows = _seed()
    rng = np.random.default_rng(7)
    picked = [rows[i] for i in rng.choice(len(rows), 400, replace=False)]
    currency, seconds, expected = [], [], []
    for r in picked:
        start = datetime.fromisoformat(r["rate_month"]).replace(tzinfo=UTC)
        end = start.replace(year=start.year + (start.month == 12), month=start.month % 12 + 1)
        lo, hi = int(start.timestamp()), int(end.timestamp()) - 1
        for t in (lo, hi, int(rng.integers(lo, hi))):  # first and last second of the month, and one between
            currency.append(r["currency_code"])
            seconds.append(t)
            expected.append(float(r["units_per_usd"]))
    got = fx.units_per_usd_vec(np.array(currency, dtype=object), np.array(seconds, dtype=np.int64))
    assert got.tolist() == expected
    for c, t, e in zip(currency[:30], seconds[:30], expected[:30], strict=True):
        d = datetime.fromtimestamp(t, UTC)
        assert fx.units_per_usd(c, d.year, d.month) == e


# (e) unknown currencies and months without a rate ---------------------------------------------------


def test_unknown_currency_raises_naming_the_known_ones():
    with pytest.raises(ValueError, match="'XXX'; known: USD, EUR, GBP, BRL, TRY"):
        fx.units_per_usd("XXX", 2024, 1)
    with pytest.raises(ValueError, match="known: USD, EUR, GBP, BRL, TRY"):
        fx.units_per_usd_vec(np.array(["EUR", "ABC"], dtype=object), np.array([1.7e9, 1.7e9], dtype=np.int64))


@pytest.mark.parametrize(
    ("currency", "year", "month"), [("TRY", 2004, 12), ("BRL", 2007, 12), ("USD", 2028, 1)]
)
def test_month_without_a_rate_raises(currency, year, month):
    with pytest.raises(ValueError, match=f"no reference rate for {currency} in {year:04d}-{month:02d}"):
        fx.units_per_usd(currency, year, month)
