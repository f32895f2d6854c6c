"""Nothing is lost: every planted defect is quarantined with its own reason, and raw = clean + quarantined."""

from __future__ import annotations

import pytest

from insight_engine.generate import BAD_KINDS_BY_TABLE

STAGING = {
    key: (f"staging.stg_{key.replace('.', '__')}", f"quarantine.qrn_{key.replace('.', '__')}")
    for key in BAD_KINDS_BY_TABLE
}


@pytest.mark.parametrize("key", sorted(STAGING))
def test_quarantine_reasons_match_planted_defects(xs, key):
    _, qrn = STAGING[key]
    got = dict(
        xs.query(
            f"select quarantine_reason, count(*) from {qrn} "
            "where quarantine_reason <> 'superseded' group by 1"
        )
    )
    planted = {kind: n for kind, n in xs.manifest["bad_rows"][key].items() if n}
    assert got == planted


@pytest.mark.parametrize("key", sorted(STAGING))
def test_raw_rows_equal_clean_plus_quarantined(xs, key):
    stg, qrn = STAGING[key]
    system, table = key.split(".")
    (raw,) = xs.raw(f"select count(*) from read_parquet('{{raw}}/{system}/{table}/*/*.parquet')")[0]
    (clean,) = xs.query(f"select count(*) from {stg}")[0]
    (quarantined,) = xs.query(f"select count(*) from {qrn}")[0]
    assert raw == clean + quarantined
    assert raw == xs.manifest["rows"][key]
