"""Hostile and extreme input (issue 15, item 4): each case has one documented outcome (RELIABILITY.md).

Row-level cases are injected all at once into one xs landing zone (``hostile_zone.py``) that the scheduled job
builds and publishes once (session fixture ``hostile_job``); each case is then found by its id in the base
model and must be quarantined with its reason, normalised, or kept as written. File-level cases (zero-byte,
truncated, extra column) get a tiny landing zone of their own and go through the raw gate of
``insight-engine run`` only: exit 3 naming the file, or a warning naming the column.
"""

from __future__ import annotations

import gzip
import logging
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from hostile_zone import CASES, LONG_COMMENT, SQL_TEXT, Case
from test_gate_real_exports import orders, put_csv, put_parquet

from insight_engine import contract
from insight_engine.cli import main
from insight_engine.exitcodes import ExitCode

BASE = {
    "survey.answers": "staging.base_survey__answers",
    "survey.responses": "staging.base_survey__responses",
    "commerce.orders": "staging.base_commerce__orders",
}
STAGING = {
    key: (f"staging.stg_{key.replace('.', '__')}", f"quarantine.qrn_{key.replace('.', '__')}")
    for key in contract.tables()
}


def _where(key: dict[str, str | None]) -> str:
    def cond(column: str, value: str | None) -> str:
        if value is None:
            return f"{column} is null"
        return f"{column} = '" + value.replace("'", "''") + "'"

    return " and ".join(cond(c, v) for c, v in key.items())


def _rows(job, case: Case) -> list[dict[str, Any]]:
    with job.connect() as con:
        cur = con.execute(f"select * from {BASE[case.table]} where {_where(case.key)}")
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_hostile_row_has_its_documented_outcome(hostile_job, case: Case) -> None:
    rows = _rows(hostile_job, case)
    assert rows, f"{case.id}: row {case.key} vanished from {BASE[case.table]} (silent drop)"
    reasons = sorted((r["quarantine_reason"] or "") for r in rows)
    if case.id == "id-dup-by-spaces":  # the padded copy and the plain one: one kept, one duplicate
        assert reasons == ["", "duplicate_id"], reasons
        return
    if case.id == "id-blank":  # every blank id of the load is one null_id row; ours is among them
        assert "null_id" in reasons
        return
    assert len(rows) == 1, f"{case.id}: {len(rows)} rows for {case.key}"
    (row,) = rows
    if case.outcome.startswith("quarantined:"):
        assert row["quarantine_reason"] == case.outcome.split(":", 1)[1], row
    else:
        assert row["quarantine_reason"] is None, f"{case.id} should be kept, got {row['quarantine_reason']}"
    for column, value in (case.expect or {}).items():
        got = row[column]
        assert (str(got) if column.endswith("_at") else got) == value, f"{case.id}: {column}={got!r}"


def _verbatim(job, response_id: str) -> str | None:
    with job.connect(serving=True) as con:
        got = con.execute(
            "select comment_text from rox.fct_feedback_verbatims where response_id = ?",
            [response_id],
        ).fetchall()
    return got[0][0] if got else None


@pytest.mark.parametrize(
    ("response_id", "expected"),
    [
        ("RH-comment-100k", LONG_COMMENT.strip()),
        ("RH-comment-emoji", "😡😡🙄📦"),
        ("RH-comment-sql", SQL_TEXT),
        ("RH-comment-quotes-csv", 'he said "no", then\nleft'),
        ("RH-comment-bidi", "\u202egood\u202c ok"),
        ("RH-comment-blank", None),
    ],
    ids=["100k-chars", "emoji-only", "sql-text", "csv-quotes-newline", "bidi", "blank-is-no-comment"],
)
def test_hostile_comment_reaches_bi_as_written(hostile_job, response_id: str, expected: str | None) -> None:
    assert _verbatim(hostile_job, response_id) == expected


def test_a_nul_byte_in_a_comment_is_kept_or_dropped_never_a_crash(hostile_job) -> None:
    text = _verbatim(hostile_job, "RH-comment-nul")
    assert text is not None and text.replace("\x00", "") == "lateparcel", repr(text)


def test_sql_text_in_data_executes_nothing(hostile_job) -> None:
    """The comment and the order id holding `'); drop table fct_orders; --` are data: every table is there."""
    with hostile_job.connect(serving=True) as con:
        (n,) = con.execute("select count(*) from core.fct_orders").fetchone()
        ids = con.execute(
            "select order_id from core.fct_orders where order_id like 'ORD-H''); drop%'"
        ).fetchall()
    assert n > 0 and ids == [("ORD-H'); drop table fct_orders; --",)]


@pytest.mark.parametrize(
    "response_id", ["RH-nps-decimal", "RH-score-text-decimal-csv", "RH-csat-decimal"], ids=lambda r: r[3:]
)
def test_a_decimal_score_is_kept_in_staging_but_counts_in_no_metric(hostile_job, response_id: str) -> None:
    """DECISIONLOG: staging keeps 7.5 (inside the scale); is_valid_metric_answer ignores it, never rounds."""
    with hostile_job.connect(serving=True) as con:
        got = con.execute(
            "select nps_score, csat_score from core.fct_survey_responses where response_id = ?", [response_id]
        ).fetchall()
    assert got == [(None, None)]


def test_ids_with_spaces_join_their_parents(hostile_job) -> None:
    """The padded response id of an answer joins its (unpadded) response: the score reaches BI."""
    with hostile_job.connect(serving=True) as con:
        got = con.execute(
            "select nps_score from core.fct_survey_responses where response_id in ('RH-rid-padded', "
            "'RH-qid-padded', 'RH-score-text', 'RH-score-text-padded', 'RH-score-text-decimal') order by 1"
        ).fetchall()
    assert got == [(8,), (8,), (9,), (9,), (10,)]


def test_the_job_published_despite_the_hostile_rows(hostile_job) -> None:
    assert hostile_job.rc == 0, hostile_job.stderr[-3000:]


@pytest.mark.parametrize("key", sorted(STAGING))
def test_raw_equals_clean_plus_quarantined_with_hostile_rows(hostile_job, key: str) -> None:
    stg, qrn = STAGING[key]
    system, table = key.split(".")
    folder = hostile_job.raw / system / table
    raw = hostile_job.raw_count(folder)
    with hostile_job.connect() as con:
        (clean,) = con.execute(f"select count(*) from {stg}").fetchone()
        (quarantined,) = con.execute(f"select count(*) from {qrn}").fetchone()
    assert raw == clean + quarantined, f"{key}: raw {raw} != {clean} clean + {quarantined} quarantined"


# ------------------------------------------------------------------------------------------ file-level cases
def _run_raw_gate_only(raw: Path, work: Path) -> Any:
    """`insight-engine run` on a landing zone whose raw gate must fail: it stops before dbt (exit 3)."""
    return CliRunner().invoke(
        main,
        [
            "run",
            "--raw-root",
            str(raw),
            "--warehouse-dir",
            str(work / "warehouse"),
            "--gates-dir",
            str(work / "gates"),
            "--target-path",
            str(work / "target"),
        ],
    )


def _truncated_parquet(path: Path) -> None:
    pq.write_table(pa.table(orders(50, order_id=[f"T-{i}" for i in range(50)])), path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _truncated_gzip(path: Path) -> None:
    """Cut in half: DuckDB reads the rows before the cut without an error (a silent loss the gate stops)."""
    data = gzip.compress(("order_id,currency\n" + "".join(f"T-{i},EUR\n" for i in range(5000))).encode())
    path.write_bytes(data[: len(data) // 2])


FILE_CASES = {
    "zero-byte-parquet": lambda folder: (folder / "empty.parquet").write_bytes(b""),
    "truncated-parquet": lambda folder: _truncated_parquet(folder / "cut.parquet"),
    "parquet-magic-only": lambda folder: (folder / "magic.parquet").write_bytes(b"PAR1"),
    "zero-byte-csv": lambda folder: (folder / "empty.csv").write_bytes(b""),
    "truncated-csv": lambda folder: (folder / "cut.csv").write_text('order_id,currency\nT-1,EUR\nT-2,"EU'),
    "truncated-csv-gz": lambda folder: _truncated_gzip(folder / "cut.csv.gz"),
    "binary-as-csv": lambda folder: (folder / "image.csv").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe"),
}


@pytest.mark.parametrize("name", sorted(FILE_CASES))
def test_a_broken_file_stops_the_run_at_the_raw_gate_naming_it(tmp_path: Path, name: str) -> None:
    raw = tmp_path / "raw"
    good = put_parquet(raw, "commerce.orders", orders())
    FILE_CASES[name](good.parent)
    bad = next(p for p in good.parent.iterdir() if p != good)
    res = _run_raw_gate_only(raw, tmp_path)
    assert res.exit_code == ExitCode.RAW_GATE, (res.exit_code, res.output)
    assert bad.name in res.output or str(bad.relative_to(raw)) in res.output, res.output
    assert not (tmp_path / "warehouse" / "insight_engine.duckdb").exists(), "dbt ran after a failed raw gate"
    assert not (tmp_path / "warehouse" / "serving.duckdb").exists()


def test_an_extra_unknown_column_is_ignored_and_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Schema drift: a column the contract does not know passes the gate, is named in a warning, and is
    not read by staging (read_source selects contract columns only)."""
    from test_gate_real_exports import gate

    raw = tmp_path / "raw"
    put_parquet(raw, "commerce.orders", orders(loyalty_tier=["gold"] * 200))
    with caplog.at_level(logging.WARNING):
        g = gate(raw, tmp_path / "out", "commerce.orders")
    assert g.success, g.failures
    assert any("loyalty_tier" in r.getMessage() for r in caplog.records), [
        r.getMessage() for r in caplog.records
    ]


def test_an_extra_column_with_a_hostile_name_is_ignored(tmp_path: Path) -> None:
    """A column named like SQL (`x"; drop table t; --`) is never interpolated: the gate passes."""
    from test_gate_real_exports import gate

    raw = tmp_path / "raw"
    put_csv(raw, "commerce.orders", 'order_id,currency,"x""; drop table t; --"\nC-1,EUR,1\n' * 1)
    put_parquet(raw, "commerce.orders", orders(), name="part-1.parquet")
    g = gate(raw, tmp_path / "out", "commerce.orders")
    assert g.success, g.failures
