"""Reference exchange rates: the formula behind ``seeds/currency_rates.csv``.

The generator prices orders with these rates and the warehouse converts back with the seed, so the
seed is written from this module (``python -m insight_engine.fx > seeds/currency_rates.csv``) and a test
checks that the two agree.
"""

from __future__ import annotations

from datetime import date

import numpy as np

CURRENCIES = ("USD", "EUR", "GBP", "BRL", "TRY")
FIRST_MONTH = date(2020, 1, 1)
LAST_MONTH = date(2027, 12, 1)


def _months_since_start(year: int, month: int) -> int:
    return (year - FIRST_MONTH.year) * 12 + (month - FIRST_MONTH.month)


def units_per_usd(currency: str, year: int, month: int) -> float:
    """Units of ``currency`` bought by one US dollar in the given month (monthly average)."""
    m = _months_since_start(year, month)
    if currency == "USD":
        return 1.0
    if currency == "EUR":
        return round(0.90 + 0.03 * np.sin(m / 7.0), 6)
    if currency == "GBP":
        return round(0.78 + 0.02 * np.cos(m / 9.0), 6)
    if currency == "BRL":
        return round(5.00 + 0.004 * m + 0.15 * np.sin(m / 5.0), 6)
    if currency == "TRY":
        return round(8.00 * 1.028**m, 6)  # steady depreciation
    raise ValueError(f"no reference rate for currency {currency!r}; known: {', '.join(CURRENCIES)}")


def units_per_usd_vec(currency: np.ndarray, epoch_seconds: np.ndarray) -> np.ndarray:
    """Vectorised :func:`units_per_usd` for epoch-second timestamps (UTC)."""
    days = np.asarray(epoch_seconds, dtype="int64") // 86_400
    ym = days.astype("datetime64[D]").astype("datetime64[M]").astype(int)  # months since 1970-01
    cur = np.asarray(currency, dtype=object).astype(str)
    keys = np.char.add(np.char.add(cur, ":"), ym.astype(str))
    uniq, inverse = np.unique(keys, return_inverse=True)
    rates = np.empty(len(uniq), dtype=float)
    for i, key in enumerate(uniq):
        c, m = key.split(":")
        rates[i] = units_per_usd(c, int(m) // 12 + 1970, int(m) % 12 + 1)
    return rates[inverse]


def seed_rows() -> list[tuple[str, str, float]]:
    rows = []
    for y in range(FIRST_MONTH.year, LAST_MONTH.year + 1):
        for mo in range(1, 13):
            for c in CURRENCIES:
                rows.append((c, date(y, mo, 1).isoformat(), units_per_usd(c, y, mo)))
    return rows


if __name__ == "__main__":
    print("currency_code,rate_month,units_per_usd")
    for c, d, r in seed_rows():
        print(f"{c},{d},{r}")
