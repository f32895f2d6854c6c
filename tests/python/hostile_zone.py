"""One small landing zone (xs, 45 days, seed 7) with every row-level hostile case injected at once.

Each hostile row carries a recognisable id (``RH-...`` responses, ``ORD-H...`` orders) so the tests can find
where it went: quarantined with a reason, normalised, or kept. The rows are written as extra files in the
newest load folder: ``hostile.parquet`` (the table's own Parquet types) and ``hostile.csv`` (text, as CSV
exports send it). ``tests/python/test_hostile_input.py`` documents and checks each case;
``test_pii.py`` scans what the job built and published from this zone.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from insight_engine.generate import generate

SURVEY = "SRV-PURCHASE"  # questions Q1 nps 0-10, Q2 csat 1-5, Q3 ces 1-7, Q4 open_text
NPS, CSAT, OPEN = f"{SURVEY}-Q1", f"{SURVEY}-Q2", f"{SURVEY}-Q4"
SUBMITTED = "2026-09-30T10:00:00+03:00"
PII_EMAIL = "Jane.Hostile@Example.com"
PII_PHONE = "+90 541 987 65 43"  # not a number the project's own SQL tests spell out
LONG_COMMENT = "slow delivery " * 7143  # 100 002 characters
SQL_TEXT = "'); drop table fct_orders; --"


@dataclass(frozen=True)
class Case:
    """One hostile row: where it is written, its key in the base model and its documented outcome."""

    id: str
    table: str  # system.table
    fmt: str  # parquet | csv
    row: dict[str, Any]
    key: dict[str, str]  # column -> value identifying the row in the base model (after trimming)
    outcome: str  # "kept" | "normalised" | "quarantined:<reason>" | "dropped" (not a comment)
    what: str  # the input, for RELIABILITY.md
    expect: dict[str, Any] | None = None  # for kept / normalised: column -> value in the base model


def _answer(rid: str, qid: str, numeric: Any = None, text: Any = None) -> dict[str, Any]:
    return {"response_id": rid, "question_id": qid, "answer_numeric": numeric, "answer_text": text}


def _response(rid: str, submitted_at: str = SUBMITTED, email: str | None = None) -> dict[str, Any]:
    return {
        "response_id": rid,
        "invitation_id": None,
        "survey_id": SURVEY,
        "email": email,
        "submitted_at": submitted_at,
        "language": "en-GB",
        "device": "desktop",
    }


def _order(oid: str, ordered_at: str = "2026-09-30T09:00:00Z", currency: str = "EUR", **kw: Any) -> dict:
    return {
        "order_id": oid,
        "shop_customer_id": "SHP-0000001",
        "ordered_at": ordered_at,
        "channel": "web",
        "currency": currency,
        "status": "placed",
        "discount_amount": 0.0,
        "shipping_amount": 4.5,
        "promised_delivery_at": None,
        "delivered_at": None,
        **kw,
    }


A, R, ORD = "survey.answers", "survey.responses", "commerce.orders"
Q = "quarantined:"


def _answer_case(cid, qid, numeric, outcome, what, fmt="parquet", text=None, expect=None, rid=None):
    rid_written = rid or f"RH-{cid}"
    key_rid = rid_written.strip(" ")  # staging trims spaces (clean_text), not tabs
    return Case(
        cid,
        A,
        fmt,
        _answer(rid_written, qid, numeric, text),
        {"response_id": key_rid, "question_id": qid.strip()},
        outcome,
        what,
        expect,
    )


CASES: list[Case] = [
    # ---------------------------------------------------------------- scores on the wrong scale or as text
    _answer_case("nps-0-100-scale", NPS, 85.0, Q + "out_of_range_score", "NPS answered on 0-100 (85)"),
    _answer_case("nps-100", NPS, 100.0, Q + "out_of_range_score", "NPS 100 (0-100 scale top)"),
    _answer_case("nps-negative", NPS, -1.0, Q + "out_of_range_score", "NPS -1"),
    _answer_case(
        "nps-decimal",
        NPS,
        7.5,
        "kept",
        "NPS 7.5 (decimal score; no metric counts it)",
        expect={"answer_numeric": 7.5},
    ),
    _answer_case("nps-nan", NPS, math.nan, Q + "uncastable_value", "NPS NaN (Parquet double)"),
    _answer_case("nps-inf", NPS, math.inf, Q + "uncastable_value", "NPS +Infinity"),
    _answer_case("csat-0-10-scale", CSAT, 9.0, Q + "out_of_range_score", "CSAT answered on 0-10 (9)"),
    _answer_case("csat-zero", CSAT, 0.0, Q + "out_of_range_score", "CSAT 0 (0-10 scale bottom)"),
    _answer_case(
        "csat-decimal",
        CSAT,
        4.5,
        "kept",
        "CSAT 4.5 (decimal score; no metric counts it)",
        expect={"answer_numeric": 4.5},
    ),
    _answer_case(
        "score-text", NPS, "9", "normalised", "NPS as text '9' (CSV)", "csv", expect={"answer_numeric": 9.0}
    ),
    _answer_case(
        "score-text-padded",
        NPS,
        " 10 ",
        "normalised",
        "NPS as text ' 10 ' (CSV)",
        "csv",
        expect={"answer_numeric": 10.0},
    ),
    _answer_case(
        "score-text-decimal",
        NPS,
        "8.0",
        "normalised",
        "NPS '8.0' (CSV)",
        "csv",
        expect={"answer_numeric": 8.0},
    ),
    _answer_case("score-word", NPS, "nine", Q + "uncastable_value", "NPS as a word 'nine' (CSV)", "csv"),
    _answer_case("score-comma", NPS, "9,5", Q + "uncastable_value", "NPS '9,5' decimal comma (CSV)", "csv"),
    _answer_case(
        "score-text-decimal-csv",
        NPS,
        "7.5",
        "kept",
        "NPS '7.5' as text (CSV; no metric counts it)",
        "csv",
        expect={"answer_numeric": 7.5},
    ),
    # ---------------------------------------------------------------- ids: spaces and case
    _answer_case(
        "qid-other-case",
        NPS.lower(),
        9.0,
        Q + "orphan_fk",
        "question id in lower case ('srv-purchase-q1'): ids are case-sensitive",
    ),
    _answer_case(
        "qid-padded",
        f"  {NPS} ",
        9.0,
        "normalised",
        "question id with leading/trailing spaces",
        expect={"question_id": NPS, "answer_numeric": 9.0},
    ),
    _answer_case(
        "rid-padded",
        NPS,
        8.0,
        "normalised",
        "response id with spaces in the answer, without in the response",
        expect={"response_id": "RH-rid-padded"},
        rid="  RH-rid-padded ",
    ),
    _answer_case(
        "rid-tab",
        NPS,
        8.0,
        Q + "orphan_fk",
        "response id ending in a tab: only spaces are trimmed, so it matches no response",
        rid="RH-rid-tab\t",
    ),
    # ---------------------------------------------------------------- comments (verbatims)
    _answer_case("comment-nul", OPEN, None, "kept", "comment with a NUL byte", text="late\x00parcel"),
    _answer_case("comment-100k", OPEN, None, "kept", "comment of 100 002 characters", text=LONG_COMMENT),
    _answer_case("comment-emoji", OPEN, None, "kept", "comment of emoji only", text="😡😡🙄📦"),
    _answer_case("comment-sql", OPEN, None, "kept", f"comment {SQL_TEXT!r}", text=SQL_TEXT),
    _answer_case(
        "comment-pii",
        OPEN,
        None,
        "kept",
        "comment with an e-mail and a phone (masked in BI)",
        text=f"call me on {PII_PHONE} or write to {PII_EMAIL} please",
    ),
    _answer_case(
        "comment-blank", OPEN, None, "dropped", "comment of spaces and a no-break space", text="  \u00a0 \t"
    ),
    _answer_case(
        "comment-bidi",
        OPEN,
        None,
        "kept",
        "comment with bidi override characters",
        text="\u202egood\u202c ok",
    ),
    _answer_case(
        "comment-quotes-csv",
        OPEN,
        None,
        "kept",
        "comment with quotes, comma and newline (CSV)",
        fmt="csv",
        text='he said "no", then\nleft',
    ),
]

# every answer case needs its response; the response cases are responses of their own
_RESPONSES = {c.key["response_id"].strip() for c in CASES if c.table == A}

CASES += [
    Case(
        "email-upper",
        R,
        "parquet",
        _response("RH-email-upper", email="HOSTILE.UPPER@EXAMPLE.COM"),
        {"response_id": "RH-email-upper"},
        "normalised",
        "e-mail in upper case",
        {"email": "hostile.upper@example.com"},
    ),
    Case(
        "email-unicode",
        R,
        "parquet",
        _response("RH-email-unicode", email=" Çağrı.ÖZ@Örnek.com.tr "),
        {"response_id": "RH-email-unicode"},
        "normalised",
        "e-mail with unicode letters, upper case and spaces",
        {"email": "çağrı.öz@örnek.com.tr"},
    ),
    Case(
        "date-1900",
        R,
        "parquet",
        _response("RH-date-1900", "1900-01-01T00:00:00Z"),
        {"response_id": "RH-date-1900"},
        Q + "implausible_timestamp",
        "submitted in 1900",
    ),
    Case(
        "date-2999",
        R,
        "parquet",
        _response("RH-date-2999", "2999-12-31T23:59:59Z"),
        {"response_id": "RH-date-2999"},
        Q + "future_timestamp",
        "submitted in 2999",
    ),
    Case(
        "date-feb-30",
        R,
        "parquet",
        _response("RH-date-feb-30", "2026-02-30T10:00:00Z"),
        {"response_id": "RH-date-feb-30"},
        Q + "unparseable_timestamp",
        "submitted on 30 February",
    ),
    Case(
        "offset-plus14",
        R,
        "parquet",
        _response("RH-offset-plus14", "2026-09-30T10:00:00+14:00"),
        {"response_id": "RH-offset-plus14"},
        "normalised",
        "offset +14:00 (mixed offsets in one column)",
        {"submitted_at": "2026-09-29 20:00:00"},
    ),
    Case(
        "offset-minus12",
        R,
        "parquet",
        _response("RH-offset-minus12", "2026-09-29T10:00:00-12:00"),
        {"response_id": "RH-offset-minus12"},
        "normalised",
        "offset -12:00 (mixed offsets in one column)",
        {"submitted_at": "2026-09-29 22:00:00"},
    ),
    Case(
        "offset-zulu",
        R,
        "parquet",
        _response("RH-offset-zulu", "2026-09-30T07:00:00Z"),
        {"response_id": "RH-offset-zulu"},
        "normalised",
        "Z offset (mixed offsets in one column)",
        {"submitted_at": "2026-09-30 07:00:00"},
    ),
    Case(
        "offset-naive",
        R,
        "parquet",
        _response("RH-offset-naive", "2026-09-30 07:30:00"),
        {"response_id": "RH-offset-naive"},
        "normalised",
        "no offset (naive, read in the source zone UTC)",
        {"submitted_at": "2026-09-30 07:30:00"},
    ),
    Case(
        "id-blank",
        R,
        "parquet",
        _response("   "),
        {"submitted_at_raw": "2026-09-30T10:00:00+03:00", "response_id": None},
        Q + "null_id",
        "response id of spaces only",
    ),
    Case(
        "id-dup-by-spaces",
        R,
        "parquet",
        _response(" RH-dup-by-spaces "),
        {"response_id": "RH-dup-by-spaces"},
        Q + "duplicate_id",
        "same response id twice in one load, once padded with spaces",
    ),
    # ---------------------------------------------------------------- orders
    Case(
        "order-1900",
        ORD,
        "parquet",
        _order("ORD-H-1900", "1900-01-01T00:00:00Z"),
        {"order_id": "ORD-H-1900"},
        Q + "implausible_timestamp",
        "order placed in 1900",
    ),
    Case(
        "order-2999",
        ORD,
        "parquet",
        _order("ORD-H-2999", "2999-01-01T00:00:00Z"),
        {"order_id": "ORD-H-2999"},
        Q + "future_timestamp",
        "order placed in 2999",
    ),
    Case(
        "order-id-padded",
        ORD,
        "parquet",
        _order("  ORD-H-PADDED  "),
        {"order_id": "ORD-H-PADDED"},
        "normalised",
        "order id with leading/trailing spaces",
        {"order_id": "ORD-H-PADDED"},
    ),
    Case(
        "currency-lower",
        ORD,
        "parquet",
        _order("ORD-H-CURLOWER", currency=" eur"),
        {"order_id": "ORD-H-CURLOWER"},
        "normalised",
        "currency ' eur' (case, space)",
        {"currency_code": "EUR"},
    ),
    Case(
        "amount-symbol",
        ORD,
        "csv",
        _order("ORD-H-EURO", shipping_amount="€4.50"),
        {"order_id": "ORD-H-EURO"},
        Q + "uncastable_value",
        "shipping amount '€4.50' (CSV)",
    ),
    Case(
        "amount-huge",
        ORD,
        "parquet",
        _order("ORD-H-HUGE", shipping_amount=1e30),
        {"order_id": "ORD-H-HUGE"},
        Q + "uncastable_value",
        "shipping amount 1e30 (overflows decimal(18,2))",
    ),
    Case(
        "order-sql-id",
        ORD,
        "parquet",
        _order("ORD-H'); drop table fct_orders; --"),
        {"order_id": "ORD-H'); drop table fct_orders; --"},
        "kept",
        "order id holding SQL text",
        {"order_id": "ORD-H'); drop table fct_orders; --"},
    ),
]

# the duplicate's other copy (unpadded) is a normal row; the answers' parent responses are plain responses
_EXTRA_ROWS: dict[str, list[dict[str, Any]]] = {
    R: [_response("RH-dup-by-spaces")] + [_response(rid) for rid in sorted(_RESPONSES)],
}


def _newest_load(raw: Path, table: str) -> Path:
    system, name = table.split(".")
    return sorted((raw / system / name).glob("load_date=*"))[-1]


def _write_parquet(folder: Path, rows: list[dict[str, Any]]) -> None:
    """Rows in the schema of the folder's own Parquet file (text scores go to CSV, not here)."""
    template = pq.read_schema(next(folder.glob("*.parquet")))
    loaded_at = duckdb.sql(f"select max(_loaded_at) from read_parquet('{folder}/*.parquet')").fetchone()[0]
    fields = [f for f in template if f.name != "load_date"]
    columns = {}
    for f in fields:
        values = [loaded_at if f.name == "_loaded_at" else r.get(f.name) for r in rows]
        columns[f.name] = pa.array(values, f.type)
    pq.write_table(pa.table(columns), folder / "hostile.parquet")


def _write_csv(folder: Path, rows: list[dict[str, Any]]) -> None:
    names = list(rows[0])
    out = io.StringIO()
    writer = csv.DictWriter(out, names, lineterminator="\n")
    writer.writeheader()
    for r in rows:
        writer.writerow({k: "" if v is None else v for k, v in r.items()})
    (folder / "hostile.csv").write_text(out.getvalue(), encoding="utf-8")


def build_hostile_zone(out: Path) -> Path:
    """Generate the xs 45-day zone (seed 7) into ``out`` and inject every case; returns ``out``."""
    generate(out, scale="xs", seed=7, days=45)
    by_file: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for case in CASES:
        by_file.setdefault((case.table, case.fmt), []).append(case.row)
    for table, rows in _EXTRA_ROWS.items():
        by_file.setdefault((table, "parquet"), []).extend(rows)
    for (table, fmt), rows in by_file.items():
        folder = _newest_load(out, table)
        (_write_parquet if fmt == "parquet" else _write_csv)(folder, rows)
    return out
