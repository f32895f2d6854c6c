"""Planted defects: bad rows are *added* as corrupted copies of good rows, one defect per row, so the clean
data is identical whatever the bad rate; the count of every kind goes to the manifest. A defect kind's name
is the quarantine reason code staging gives it."""

from __future__ import annotations

import numpy as np
import pandas as pd

from insight_engine.generator.world import DAY, World, iso

# Primary key and main timestamp of each table: where the generator plants its defects.
KEYS: dict[str, tuple[str, str | None]] = {
    "survey.surveys": ("survey_id", "created_at"),
    "survey.questions": ("question_id", None),
    "survey.invitations": ("invitation_id", "sent_at"),
    "survey.responses": ("response_id", "submitted_at"),
    "survey.answers": ("question_id", None),
    "crm.customers": ("crm_customer_id", "created_at"),
    "crm.cases": ("case_id", "opened_at"),
    "crm.interactions": ("interaction_id", "occurred_at"),
    "commerce.customers": ("shop_customer_id", "created_at"),
    "commerce.products": ("product_id", None),
    "commerce.orders": ("order_id", "ordered_at"),
    "commerce.order_lines": ("order_line_id", None),
    "commerce.refunds": ("refund_id", "refunded_at"),
    "web.events": ("event_id", "occurred_at"),
}

# Defect kinds the generator can plant; the quarantine reason code is the same string.
BAD_KINDS_BY_TABLE: dict[str, list[str]] = {
    key: ["null_id", "duplicate_id"] + (["unparseable_timestamp", "future_timestamp"] if ts else [])
    for key, (_, ts) in KEYS.items()
}
BAD_KINDS_BY_TABLE["survey.answers"] += ["out_of_range_score", "orphan_fk"]
BAD_KINDS_BY_TABLE["commerce.orders"] += ["unknown_currency"]
BAD_KINDS_BY_TABLE["commerce.order_lines"] += ["negative_quantity", "orphan_fk"]

# what an unparseable_timestamp defect writes
UNPARSEABLE = ["not a date", "2025-13-45T25:61:00", "31/02/2025 10:00", "N/A", "yesterday"]


def corrupt(w: World, bad_rate: float) -> dict[str, dict[str, int]]:
    """Append corrupted copies of good rows, one defect per row; return counts by table and kind."""
    manifest: dict[str, dict[str, int]] = {}
    for key, kinds in BAD_KINDS_BY_TABLE.items():
        df = w.tables[key]
        counts = {k: 0 for k in kinds}
        if bad_rate <= 0 or df.empty:
            manifest[key] = counts
            continue
        rng = w.rng("bad." + key)
        pk, ts = KEYS[key]
        # at least one row of every kind, so every defect is exercised even in tiny tables
        per_kind = max(1, round(bad_rate * len(df) / len(kinds)))
        pool = df
        if key == "survey.answers":
            pool = df[df["answer_numeric"].notna()]
        bad_parts = []
        for kind in kinds:
            m = min(per_kind, len(pool))
            if m == 0:
                continue
            src = pool.iloc[rng.choice(len(pool), size=m, replace=False)].copy()
            if kind == "null_id":
                src[pk] = None
            elif kind == "duplicate_id":
                pass  # an exact re-sent copy
            elif kind == "unparseable_timestamp":
                src[ts] = np.asarray(UNPARSEABLE, dtype=object)[rng.integers(0, len(UNPARSEABLE), m)]
            elif kind == "future_timestamp":
                src[ts] = iso(src["_t"].to_numpy() + rng.integers(400, 2000, m) * DAY, np.zeros(m, int))
            elif kind == "out_of_range_score":
                src["answer_numeric"] = rng.choice([11.0, 12.0, -1.0, 42.0, 99.0], m)
            elif kind == "orphan_fk":
                fk = "response_id" if key == "survey.answers" else "order_id"
                src[fk] = np.char.add("ORPHAN-", np.arange(m).astype(str)).astype(object)
            elif kind == "unknown_currency":
                src["currency"] = rng.choice(["XXX", "ABC", "ZZZ"], m).astype(object)
            elif kind == "negative_quantity":
                src["quantity"] = -rng.integers(1, 5, m)
            counts[kind] = m
            src["_bad"] = kind  # never written: lets a dialect that drops rows recount its defects
            bad_parts.append(src)
        if bad_parts:
            w.tables[key] = pd.concat([df, *bad_parts], ignore_index=True)
        manifest[key] = counts
    return manifest


def bad_counts(df: pd.DataFrame, kinds: list[str]) -> dict[str, int]:
    """The planted defects of ``kinds`` in ``df`` as it is written (a dialect may have dropped some)."""
    written = df["_bad"].value_counts() if "_bad" in df else pd.Series(dtype=int)
    return {kind: int(written.get(kind, 0)) for kind in kinds}
