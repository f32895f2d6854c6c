"""The DuckDB row engine gives GX's verdicts, in the raw gate and in the mart gate: every expectation it
covers is run with both row engines (``row_engine="gx"``, GX's pandas datasource, is the reference) and
every success, element, missing and unexpected count, percentage and message must be equal; the sample
values too, up to the order of values with the same count (GX samples the first 20 unexpected rows of a
chunk, the sql engine counts the 20 most frequent unexpected values over all rows, so they are compared
where GX saw every unexpected row).

Two landing zones: the xs zone with 2% planted bad rows, and a hand-made one whose suites aim at the edges of
GX's pandas semantics (nulls, blanks, NaN-like text, regex near-misses, boundaries of between with strict
options, duplicated compound keys with a null part, pairs of equal values). Two warehouses: the built xs
one with the project's mart suites, and a hand-made mart holding every column type the marts use.
"""

from __future__ import annotations

import json
import random
import re
from datetime import date, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from insight_engine import validate as validate_module
from insight_engine.generate import generate
from insight_engine.validate import SQL_ROW_TYPES, GateResult, TableResult, validate

NO_WAREHOUSE = Path("/nonexistent/warehouse.duckdb")
ID_REGEX = r"^(?!\s*(?i:nan|none|null|undefined|nat)?\s*$)(?!\s*[+-]?[0-9]+\.0+\s*$).+$"


def _gate(raw: Path, out: Path, engine: str, **kwargs: Any) -> GateResult:
    kwargs.setdefault("data_docs", False)
    return validate(
        "raw", raw_root=raw, warehouse=NO_WAREHOUSE, out_dir=out / engine, row_engine=engine, **kwargs
    )


def _key(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def _without_samples(message: str) -> str:
    return message.split("; e.g. ")[0]


def _assert_same_samples(gx: Any, sql: Any) -> None:
    """Where GX's partial list held every unexpected row, both count the same values the same; the top
    five agree but for the order (and choice) among values of equal count."""
    if "sample_value_counts" not in gx.details:
        return  # a runner (or schema) result: the same code made both, its samples are approx_top_k's
    if not gx.unexpected_count or gx.unexpected_count > 20:
        counts = [c["count"] for c in sql.details.get("sample_value_counts", [])]
        assert counts == sorted(counts, reverse=True) and sum(counts) <= (sql.unexpected_count or 0)
        return
    gx_counts = {_key(c["value"]): c["count"] for c in gx.details.get("sample_value_counts", [])}
    sql_counts = {_key(c["value"]): c["count"] for c in sql.details.get("sample_value_counts", [])}
    assert gx_counts == sql_counts, gx.label
    gx_top, sql_top = [_key(v) for v in gx.sample_values], [_key(v) for v in sql.sample_values]
    assert sorted(gx_counts[v] for v in gx_top) == sorted(sql_counts[v] for v in sql_top), gx.label
    floor = min((gx_counts[v] for v in gx_top), default=0)
    above = {v for v in gx_top if gx_counts[v] > floor}
    assert above == {v for v in sql_top if sql_counts[v] > floor}, gx.label


def _assert_same_table(gx: TableResult, sql: TableResult) -> int:
    """The two engines' results of one table agree; returns how many the sql engine evaluated."""
    assert (gx.table, gx.success, gx.rows, gx.errors, gx.warnings) == (
        sql.table,
        sql.success,
        sql.rows,
        sql.errors,
        sql.warnings,
    )
    assert len(gx.expectations) == len(sql.expectations), gx.table
    by_sql = 0
    for a, b in zip(gx.expectations, sql.expectations, strict=True):
        where = f"{gx.table}: {a.label} {a.kwargs}"
        assert (a.expectation, a.column, a.kwargs, a.engine, a.severity) == (
            b.expectation,
            b.column,
            b.kwargs,
            b.engine,
            b.severity,
        ), where
        assert (a.success, a.element_count, a.unexpected_count, a.unexpected_percent, a.mostly) == (
            b.success,
            b.element_count,
            b.unexpected_count,
            b.unexpected_percent,
            b.mostly,
        ), where
        assert a.details.get("missing_count") == b.details.get("missing_count"), where
        assert a.observed_value == b.observed_value, where
        assert _without_samples(a.message) == _without_samples(b.message), where
        _assert_same_samples(a, b)
        by_sql += b.details.get("row_engine") == "sql"
    return by_sql


def _assert_same_gate(gx: GateResult, sql: GateResult) -> int:
    assert gx.success == sql.success
    assert [t.table for t in gx.tables] == [t.table for t in sql.tables]
    return sum(_assert_same_table(a, b) for a, b in zip(gx.tables, sql.tables, strict=True))


# ------------------------------------------------------------------------------------- the xs zone
@pytest.fixture(scope="module")
def bad_raw(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("engines_xs") / "raw"
    generate(out, scale="xs", seed=11, bad_rate=0.02)
    return out


def test_both_row_engines_agree_on_the_xs_zone_with_bad_rows(bad_raw: Path, tmp_path: Path) -> None:
    gx = _gate(bad_raw, tmp_path, "gx", gated_loads=tmp_path / "gx.json")
    sql = _gate(bad_raw, tmp_path, "sql", gated_loads=tmp_path / "sql.json", data_docs=True)
    by_sql = _assert_same_gate(gx, sql)
    # every row-level GX expectation of the project's raw suites is one the sql engine covers
    covered = [
        r for t in sql.tables for r in t.expectations if r.engine == "gx" and r.expectation in SQL_ROW_TYPES
    ]
    assert by_sql == len(covered) > 100
    assert sum(r.unexpected_count or 0 for r in covered if r.details.get("row_engine")) > 100
    # the gated-loads state keeps the same totals under the same keys
    state_gx = json.loads((tmp_path / "gx.json").read_text())["tables"]
    state_sql = json.loads((tmp_path / "sql.json").read_text())["tables"]
    assert {t: v["expectations"] for t, v in state_gx.items()} == {
        t: v["expectations"] for t, v in state_sql.items()
    }
    # GX stays the result store and the Data Docs
    assert sql.docs_path is not None and sql.docs_path.is_file()
    assert json.loads(sql.results_path.read_text())["success"] == sql.success


# --------------------------------------------------------------------------------- the edge cases
def _write(raw: Path, table: str, load: str, rows: dict[str, list], schema: dict[str, pa.DataType]) -> None:
    system, name = table.split(".")
    folder = raw / system / name / f"load_date={load}"
    folder.mkdir(parents=True, exist_ok=True)
    arrays = {c: pa.array(v, type=schema.get(c, pa.string())) for c, v in rows.items()}
    pq.write_table(pa.table(arrays), folder / "part-0.parquet")


def _suite(folder: Path, table: str, expectations: list[tuple[str, dict[str, Any]]]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    suite = {
        "name": f"raw.{table}",
        "meta": {"insight_engine": {"stage": "raw", "table": table, "tolerated_rows": 0}},
        "expectations": [{"type": kind, "kwargs": kwargs} for kind, kwargs in expectations],
    }
    (folder / f"{table}.json").write_text(json.dumps(suite))


TEXT = [
    "CS-1",
    None,
    "",
    "  ",
    "nan",
    "NaN",
    " None ",
    "null",
    "12.0",
    "-7.00",
    "12.5",
    "CS-1\n",
    "ab\n",
    "Ä-9",
    "١٢٣",
    "email",
    "Email",
    " email",
    "CS-1",
    "/x",
]
N = len(TEXT)


@pytest.fixture(scope="module")
def edge_zone(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("engines_edges")
    raw, suites = root / "raw", root / "suites" / "raw"
    ts = pa.timestamp("us")
    t0, t1 = datetime(2026, 1, 1, 8), datetime(2026, 1, 2, 8)
    for load in ("2026-01-01", "2026-01-02"):
        _write(
            raw,
            "crm.cases",
            load,
            {
                "case_id": TEXT,
                "crm_customer_id": ["C1", "C1", None, None, "C2", "C2", *([None] * (N - 6))],
                "opened_at": [t0, t0, t1, None, None, t1, t0, *([t1] * (N - 7))],
                "first_response_at": [t0, t1, t0, t0, None, None, t0, *([None] * (N - 7))],
                "closed_at": [t1, t0, t0, None, t1, None, t0, *([t1] * (N - 7))],
                "channel": TEXT[::-1],
                "reopen_count": [0, 1, 100, 101, -1, None, 5, *range(N - 7)],
                "_loaded_at": [t1] * N,
            },
            {
                "opened_at": ts,
                "first_response_at": ts,
                "closed_at": ts,
                "reopen_count": pa.int64(),
                "_loaded_at": ts,
            },
        )
        _write(
            raw,
            "survey.answers",
            load,
            {
                "response_id": ["R1", "R1", "R2", None, None, "R3", "nan", "nan"],
                "question_id": ["Q1", "Q1", None, "Q1", "Q1", "Q1", "Q2", "Q2"],
                "answer_numeric": [0.0, 10.0, -0.0, 10.000001, float("nan"), None, 5.5, 1.0],
                "answer_text": ["1", "10", "x", "", None, "0", "1.0", "1"],
            },
            {"answer_numeric": pa.float64()},
        )
        _write(
            raw,
            "survey.questions",
            load,
            {
                "question_id": ["Q1", "Q2", "Q3", "Q4", "Q5", "Q1"],
                "scale_min": [0, 1, None, 5, 0, 1],
                "scale_max": [10, 1, 5, None, 0, 0],
            },
            {"scale_min": pa.int64(), "scale_max": pa.int64()},
        )
    pair = "expect_column_pair_values_a_to_be_greater_than_b"
    unique = "expect_compound_columns_to_be_unique"
    between = "expect_column_values_to_be_between"
    regex = "expect_column_values_to_match_regex"
    in_set = "expect_column_values_to_be_in_set"
    _suite(
        suites,
        "crm.cases",
        [
            ("expect_column_values_to_not_be_null", {"column": "case_id"}),
            (regex, {"column": "case_id", "regex": ID_REGEX, "mostly": 0.5}),
            (regex, {"column": "case_id", "regex": r"^CS-\d$"}),
            (regex, {"column": "case_id", "regex": r"\d"}),
            (regex, {"column": "case_id", "regex": r"^\w+$"}),
            (regex, {"column": "case_id", "regex": r"^\s*$"}),
            (regex, {"column": "case_id", "regex": r"(?i)^email$"}),
            (regex, {"column": "case_id", "regex": r"^/"}),
            (regex, {"column": "case_id", "regex": r"b\Z"}),
            (regex, {"column": "reopen_count", "regex": r"^\d+$"}),  # not text: GX's
            (in_set, {"column": "channel", "value_set": ["email", "", "nan", "CS-1"]}),
            (in_set, {"column": "channel", "value_set": []}),
            (in_set, {"column": "channel", "value_set": ["email", 1]}),  # mixed types: GX's
            (in_set, {"column": "reopen_count", "value_set": [0, 1, 5.0, 2.5]}),
            (in_set, {"column": "case_id", "value_set": ["CS-1"], "row_condition": 'channel=="email"'}),
            (between, {"column": "reopen_count", "min_value": 0, "max_value": 100}),
            (between, {"column": "reopen_count", "min_value": 0, "max_value": 100, "strict_min": True}),
            (between, {"column": "reopen_count", "min_value": 0, "max_value": 100, "strict_max": True}),
            (between, {"column": "reopen_count", "min_value": 1, "strict_min": True, "strict_max": True}),
            (between, {"column": "reopen_count", "max_value": 5, "strict_max": True}),
            (between, {"column": "reopen_count", "min_value": 0.5, "max_value": 5.5}),
            (between, {"column": "case_id", "min_value": 0, "max_value": 1}),  # text: GX raises
            (pair, {"column_A": "closed_at", "column_B": "opened_at", "or_equal": True}),
            (pair, {"column_A": "closed_at", "column_B": "opened_at", "or_equal": False}),
            (
                pair,
                {"column_A": "first_response_at", "column_B": "opened_at", "ignore_row_if": "neither"},
            ),
            (
                pair,
                {
                    "column_A": "closed_at__utc",
                    "column_B": "opened_at__utc",
                    "or_equal": True,
                    "ignore_row_if": "either_value_is_missing",
                },
            ),
            (unique, {"column_list": ["case_id", "load_date"], "ignore_row_if": "any_value_is_missing"}),
            (unique, {"column_list": ["case_id", "crm_customer_id"]}),
            (unique, {"column_list": ["crm_customer_id", "load_date"], "ignore_row_if": "never"}),
            (
                unique,
                {"column_list": ["crm_customer_id", "opened_at"], "ignore_row_if": "any_value_is_missing"},
            ),
        ],
    )
    _suite(
        suites,
        "survey.answers",
        [
            ("expect_column_values_to_not_be_null", {"column": "response_id"}),
            ("expect_column_values_to_not_be_null", {"column": "question_id", "mostly": 0.5}),
            (regex, {"column": "response_id", "regex": ID_REGEX}),
            (between, {"column": "answer_numeric", "min_value": 0, "max_value": 10}),
            (between, {"column": "answer_numeric", "min_value": 0, "max_value": 10, "strict_min": True}),
            (between, {"column": "answer_numeric", "min_value": -0.0, "max_value": 10.0, "strict_max": True}),
            (in_set, {"column": "answer_numeric", "value_set": [0, 1, 5.5]}),
            (in_set, {"column": "answer_text", "value_set": ["1", "10", ""]}),
            (
                unique,
                {"column_list": ["response_id", "question_id", "load_date"], "ignore_row_if": "never"},
            ),
            (unique, {"column_list": ["response_id", "question_id"], "mostly": 0.5}),
        ],
    )
    _suite(
        suites,
        "survey.questions",
        [
            (pair, {"column_A": "scale_max", "column_B": "scale_min"}),
            (pair, {"column_A": "scale_max", "column_B": "scale_min", "or_equal": True}),
            (
                pair,
                {
                    "column_A": "scale_max",
                    "column_B": "scale_min",
                    "ignore_row_if": "either_value_is_missing",
                },
            ),
            (between, {"column": "scale_min", "min_value": 0, "max_value": 1}),
            (between, {"column": "scale_max", "min_value": 1, "max_value": 10, "strict_max": True}),
            (in_set, {"column": "scale_max", "value_set": [0, 10]}),
            (unique, {"column_list": ["question_id", "load_date"]}),
            (unique, {"column_list": ["question_id", "scale_min"], "ignore_row_if": "never"}),
        ],
    )
    return raw, suites.parent


def test_both_row_engines_agree_on_the_edges_of_gx_semantics(
    edge_zone: tuple[Path, Path], tmp_path: Path
) -> None:
    raw, suites = edge_zone
    gx = _gate(raw, tmp_path, "gx", suites_dir=suites)
    sql = _gate(raw, tmp_path, "sql", suites_dir=suites)
    assert sorted(t.table for t in sql.tables) == ["crm.cases", "survey.answers", "survey.questions"]
    assert all(not t.errors for t in sql.tables), [t.errors for t in sql.tables]
    by_sql = _assert_same_gate(gx, sql)
    results = [r for t in sql.tables for r in t.expectations if r.engine == "gx"]
    fallback = [r for r in results if r.details.get("row_engine") != "sql"]
    # GX keeps a regex on a number, a mixed-type set, a row_condition and a between on text
    assert len(fallback) == 4 and by_sql == len(results) - 4
    assert all(not r.success for r in fallback if r.expectation == "expect_column_values_to_be_between")
    # the edges do find something: most checks have unexpected rows
    assert sum(1 for r in results if r.unexpected_count) > len(results) // 2


def test_regexes_are_matched_over_distinct_values_in_batches(
    edge_zone: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The sql engine matches a regex against the distinct values in batches (bounded memory outside
    DuckDB): batches of 3 values give GX's verdicts, counts and samples, as one batch does."""
    raw, suites = edge_zone
    gx = _gate(raw, tmp_path, "gx", suites_dir=suites)
    seen: list[int] = []
    python_values: dict[str, list[str]] = {}
    unmatched = validate_module._unmatched

    def spy(values: pa.Array, pattern: str) -> pa.Array:
        seen.append(len(values))
        python_values.setdefault(pattern, []).extend(values.to_pylist())
        return unmatched(values, pattern)

    monkeypatch.setattr(validate_module, "REGEX_DISTINCT_BATCH_ROWS", 3)
    monkeypatch.setattr(validate_module, "_unmatched", spy)
    sql = _gate(raw, tmp_path, "sql", suites_dir=suites)
    _assert_same_gate(gx, sql)
    # case_id holds 18 distinct values: each of its 7 text regexes without a shortcut was matched in 6
    # batches of 3; the id regex's shortcut settled the 3 plain tokens in DuckDB and sent Python the other 15
    assert seen and max(seen) == 3
    assert len(seen) >= 7 * 6 + 5
    assert len(python_values[r"^CS-\d$"]) == 18
    # over case_id and survey.answers.response_id (R1, R2, R3 settled; "nan" is a placeholder word)
    settled = {"CS-1", "email", "Email", "R1", "R2", "R3"}
    expected = [v for v in {*TEXT, "nan"} if v is not None and v not in settled] + ["nan"]
    assert sorted(python_values[ID_REGEX]) == sorted(expected)


HOSTILE = [
    *(t for t in TEXT if t is not None),
    "CS-1",
    "cs_01",
    "NAN",
    "NaT",
    "nat",
    "Undefined",
    "NONE",
    "nul",
    "nann",
    "nats",
    "-",
    "_",
    "0",
    "007",
    "1.0",
    "+1.00",
    "1.",
    "x.0",
    "İd",
    "ıd",
    "naN\u0130",
    "K1",
    "\u212a1",
    "id\u00a0",
    "\u00a0",
    "id\t",
    "\tid",
    "id\n",
    "id\r",
    "a\x0bb",
    "a@b.co",
    "a.b+c@ex-ample.com",
    "A%B@EX.ORG",
    "a@b.c",
    "a@b.c0",
    " a@b.co",
    "a@b.co ",
    "a@b.co\n",
    "a@@b.co",
    "a@b..co",
    "@b.co",
    "a@.co",
    "ü@b.co",
    "a@b.cö",
    "a@b.ÇO",
]


@pytest.mark.parametrize("pattern", sorted(validate_module._REGEX_SURE_MATCHES))
def test_a_regex_shortcut_only_settles_values_python_matches(pattern: str) -> None:
    """The shortcut may leave a match to Python, never take a non-match from it: wherever its DuckDB predicate
    is true, Python's ``re.search`` (GX's pandas verdict for these regexes) matches. Checked on the edge
    text, hand-picked near-misses (Unicode case folding, non-ASCII whitespace, a trailing newline) and
    20,000 random strings over an alphabet of those characters (half of them shaped x@y.z)."""
    rng = random.Random(13)
    alphabet = "aAzZnNtT019-_.@+% \t\n\u00a0İıK\u212aüÇ"

    def text(longest: int) -> str:
        return "".join(rng.choice(alphabet) for _ in range(rng.randint(0, longest)))

    fuzz = [text(10) for _ in range(10_000)] + [f"{text(4)}@{text(4)}.{text(3)}" for _ in range(10_000)]
    values = [*HOSTILE, *fuzz]
    predicate = validate_module._REGEX_SURE_MATCHES[pattern].replace("{v}", "v")
    con = duckdb.connect()
    con.register("vals", pa.table({"v": pa.array(values, pa.string())}))
    settled = [row[0] for row in con.execute(f"select v from vals where {predicate}").fetchall()]
    wrong = [v for v in settled if re.search(pattern, v) is None]
    assert not wrong
    # not vacuous: it settles plain values and leaves some matches to Python
    assert len(settled) >= 20
    assert any(re.search(pattern, v) for v in values if v not in set(settled))


def test_every_regex_shortcut_is_a_suite_regex() -> None:
    """A shortcut is keyed by the exact regex text: one whose regex no suite uses any more is dead code."""
    root = validate_module.DEFAULT_SUITES_DIR
    used = {
        e["kwargs"]["regex"]
        for path in root.glob("*/*.json")
        for e in json.loads(path.read_text())["expectations"]
        if "regex" in e.get("kwargs", {})
    }
    assert set(validate_module._REGEX_SURE_MATCHES) <= used
    assert ID_REGEX in validate_module._REGEX_SURE_MATCHES


def test_the_row_engine_is_an_option(bad_raw: Path, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="row engine"):
        validate("raw", raw_root=bad_raw, warehouse=NO_WAREHOUSE, out_dir=tmp_path, row_engine="spark")


def test_samples_name_the_most_frequent_unexpected_values(
    edge_zone: tuple[Path, Path], tmp_path: Path
) -> None:
    raw, suites = edge_zone
    sql = _gate(raw, tmp_path, "sql", suites_dir=suites)
    unique = sql.table("survey.answers").expectation(
        "expect_compound_columns_to_be_unique", "response_id, question_id"
    )
    # every load holds R1/Q1 twice and nan/Q2 twice: four copies each over the two loads
    top = {
        (c["value"]["response_id"], c["value"]["question_id"]): c["count"]
        for c in unique.details["sample_value_counts"]
    }
    assert top[("R1", "Q1")] == 4 and top[("nan", "Q2")] == 4
    assert unique.details["row_engine"] == "sql" and date(2026, 1, 1)


# ------------------------------------------------------------------------------------ the mart gate
def _mart_gate(warehouse: Path, out: Path, engine: str, **kwargs: Any) -> GateResult:
    return validate(
        "marts",
        raw_root=out / "no_raw",
        warehouse=warehouse,
        out_dir=out / f"marts_{engine}",
        row_engine=engine,
        data_docs=False,
        **kwargs,
    )


def test_both_row_engines_agree_on_the_built_xs_marts(xs: Any, tmp_path: Path) -> None:
    """The mart gate's default (sql) gives GX's verdicts and counts on the project's mart suites."""
    gx = _mart_gate(xs.warehouse, tmp_path, "gx")
    sql = _mart_gate(xs.warehouse, tmp_path, "sql")
    by_sql = _assert_same_gate(gx, sql)
    row_level = [r for t in sql.tables for r in t.expectations if r.expectation in SQL_ROW_TYPES]
    # the marts' decimal amounts are DuckDB's too where their bounds are whole numbers (amounts >= 0);
    # everything is counted in DuckDB: not null, unique, sets, bounds on integers, doubles and decimals,
    # pairs of timestamps
    assert by_sql > 60 and by_sql >= len(row_level) - 15, (by_sql, len(row_level))
    assert {r.expectation for t in sql.tables for r in t.expectations if r.details.get("row_engine")} >= {
        "expect_column_values_to_not_be_null",
        "expect_column_values_to_be_unique",
        "expect_column_values_to_be_in_set",
        "expect_column_values_to_be_between",
    }
    assert sql.success and sum(t.rows or 0 for t in sql.tables) > 1_000


@pytest.fixture(scope="module")
def edge_marts(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A warehouse whose one mart holds every column type the marts use, with nulls, NaN, -0.0, blanks,
    duplicates and equal pairs, and a suite aimed at them (and a PII column the gate must name)."""
    root = tmp_path_factory.mktemp("edge_marts")
    warehouse = root / "warehouse.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        con.execute("create schema core")
        con.execute(
            """
            create table core.edge as select * from (values
                (1, 10::bigint, 0.5::double, 1.50::decimal(18, 2), date '2026-01-01',
                 timestamp '2026-01-01 10:00:00', timestamp '2026-01-01 09:00:00', 'a', true, 'x@y.example'),
                (2, 10::bigint, -0.0::double, 2.00::decimal(18, 2), date '2026-01-01',
                 timestamp '2026-01-01 10:00:00', timestamp '2026-01-01 10:00:00', '', false, null),
                (null, 11::bigint, 0.0::double, null, date '2026-01-02',
                 null, timestamp '2026-01-01 10:00:00', '', null, null),
                (null, null, 'nan'::double, -1.00::decimal(18, 2), null,
                 timestamp '2026-01-02 00:00:00', null, null, true, null),
                (5, 12::bigint, 100.0::double, 100.00::decimal(18, 2), date '2026-01-03',
                 timestamp '2025-12-31 00:00:00', timestamp '2026-01-01 00:00:00', 'nan', false, null),
                (5, 13::bigint, 1e-9::double, 0.00::decimal(18, 2), date '2026-01-03',
                 timestamp '2026-01-03 00:00:00', timestamp '2026-01-03 00:00:00', 'A', true, null)
            ) as t(n_int, n_big, x, amount, day, ended_at, started_at, label, flag, email)
            """
        )
    folder = root / "suites" / "marts"
    folder.mkdir(parents=True)
    unique, not_null = "expect_column_values_to_be_unique", "expect_column_values_to_not_be_null"
    between, in_set = "expect_column_values_to_be_between", "expect_column_values_to_be_in_set"
    pair = "expect_column_pair_values_a_to_be_greater_than_b"
    either_missing = "either_value_is_missing"
    expectations = [
        ("expect_table_columns_to_contain_no_pii", {}),
        *[(unique, {"column": c}) for c in ("n_int", "n_big", "day", "ended_at", "label", "flag", "x")],
        (unique, {"column": "amount"}),  # decimal: GX's
        *[(not_null, {"column": c}) for c in ("n_int", "n_big", "x", "day", "ended_at", "label", "flag")],
        (not_null, {"column": "n_int", "mostly": 0.5}),
        (between, {"column": "n_int", "min_value": 1, "max_value": 4}),
        (between, {"column": "n_big", "min_value": 10, "max_value": 12, "strict_max": True}),
        (between, {"column": "x", "min_value": 0, "max_value": 1}),
        (between, {"column": "x", "min_value": 0, "strict_min": True}),
        (between, {"column": "amount", "min_value": 0, "max_value": 10}),  # decimal, whole bounds: DuckDB's
        (between, {"column": "amount", "min_value": 0.5}),  # decimal, a float bound: GX's
        (between, {"column": "amount", "min_value": 1.5, "max_value": 100}),  # decimal, a float bound: GX's
        (in_set, {"column": "label", "value_set": ["a", "A", ""]}),
        (in_set, {"column": "n_int", "value_set": [1, 2, 5.0]}),
        (in_set, {"column": "flag", "value_set": [True]}),  # booleans: GX's
        (pair, {"column_A": "ended_at", "column_B": "started_at"}),
        (pair, {"column_A": "ended_at", "column_B": "started_at", "or_equal": True}),
        (pair, {"column_A": "ended_at", "column_B": "started_at", "ignore_row_if": either_missing}),
        (pair, {"column_A": "n_big", "column_B": "n_int", "ignore_row_if": "neither"}),
        ("expect_compound_columns_to_be_unique", {"column_list": ["n_int", "day"]}),
    ]
    suite = {
        "name": "marts.core.edge",
        "meta": {"insight_engine": {"stage": "marts", "table": "core.edge"}},
        "expectations": [{"type": kind, "kwargs": kwargs} for kind, kwargs in expectations],
    }
    (folder / "core.edge.json").write_text(json.dumps(suite))
    return warehouse, folder.parent


def test_both_row_engines_agree_on_the_edges_of_a_mart(edge_marts: tuple[Path, Path], tmp_path: Path) -> None:
    warehouse, suites = edge_marts
    gx = _mart_gate(warehouse, tmp_path, "gx", suites_dir=suites)
    sql = _mart_gate(warehouse, tmp_path, "sql", suites_dir=suites)
    by_sql = _assert_same_gate(gx, sql)
    results = sql.table("core.edge").expectations
    fallback = [r for r in results if r.expectation in SQL_ROW_TYPES and not r.details.get("row_engine")]
    # GX keeps the decimal unique, the decimal between with float bounds, the boolean set and the double
    # unique (pandas counts -0.0 and 0.0 as one value); the other 26 are DuckDB's, the decimal between
    # with whole-number bounds among them
    assert len(fallback) == 5 and by_sql == 26, (len(fallback), by_sql)
    # the edges do find something, and the PII column is named with either engine
    assert sum(1 for r in results if r.unexpected_count) > 15
    assert not sql.success and any("email" in f for f in sql.failures), sql.failures
