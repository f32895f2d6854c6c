"""dbt's landing casts (macros/staging/landing_casts.sql) against the raw gate's table of cases.

The raw gate (contract.cast_sql) runs before dbt and staging (read_source -> landing_value) after it;
each must judge a landing value the same way, or the gate passes what staging quarantines (or the
reverse). The cases of tests/python/test_gate_casting.py (hand-written expected values) are compiled
through the dbt macros in one `dbt compile --inline` and evaluated in DuckDB: value and failure flag
must both match.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import duckdb
import pytest
from dbt.cli.main import dbtRunner
from test_gate_casting import CASES, DATA_TYPES, ZONE_CASES

from insight_engine.dbt import PROJECT_DIR


def _sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _case_sql(i: int, literal: str, native: str, family: str, zone: str) -> str:
    data_type = DATA_TYPES[family]
    args = f"'\"x\"', {_sql_string(native)}, {_sql_string(data_type)}, {_sql_string(zone)}"
    source = f'(select cast({literal} as {native}) as "x")'
    return (
        f"(select {{{{ landing_value({args}) }}}} from {source} as c) as v{i},\n"
        f"(select {{{{ landing_value_failed({args}) }}}} from {source} as c) as f{i}"
    )


@pytest.fixture(scope="module")
def evaluated(tmp_path_factory: pytest.TempPathFactory) -> dict[int, tuple[Any, bool]]:
    cases = [(lit, nat, fam, "UTC") for lit, nat, fam, _, _ in CASES]
    cases += [(lit, nat, "timestamp", zone) for lit, nat, zone, _ in ZONE_CASES]
    inline = "select\n" + ",\n".join(_case_sql(i, *case) for i, case in enumerate(cases))
    work = tmp_path_factory.mktemp("landing_casts")
    env = {
        "RAW_ROOT": str(work / "raw"),
        "INSIGHT_WAREHOUSE": str(work / "warehouse.duckdb"),
        "DBT_TARGET": "duckdb",
        "TZ": "UTC",
    }
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        res = dbtRunner().invoke(
            [
                "compile",
                "--inline",
                inline,
                "--project-dir",
                str(PROJECT_DIR),
                "--profiles-dir",
                str(PROJECT_DIR),
                "--target-path",
                str(work / "target"),
                "--quiet",
            ]
        )
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        from insight_engine.dbt import _release_duckdb

        _release_duckdb()
    assert res.success, f"dbt compile failed: {res.exception}"
    sql = res.result.results[0].node.compiled_code
    with duckdb.connect() as con:
        con.execute("set TimeZone = 'UTC'")
        row = con.execute(sql).fetchone()
    assert row is not None
    return {i: (row[2 * i], bool(row[2 * i + 1])) for i in range(len(cases))}


@pytest.mark.parametrize("i", range(len(CASES)))
def test_dbt_casts_like_the_gate(evaluated: dict[int, tuple[Any, bool]], i: int) -> None:
    literal, native, family, expected, failed = CASES[i]
    value, was_failed = evaluated[i]
    assert (value, was_failed) == (expected, failed), f"{literal} as {native} -> {family}"


@pytest.mark.parametrize("j", range(len(ZONE_CASES)))
def test_dbt_reads_naive_timestamps_in_the_source_zone(
    evaluated: dict[int, tuple[Any, bool]], j: int
) -> None:
    literal, native, zone, expected = ZONE_CASES[j]
    assert evaluated[len(CASES) + j] == (expected, False), f"{literal} as {native} in {zone}"


def test_the_case_table_is_not_empty() -> None:
    # the comparison above is only as strong as the table it walks
    assert len(CASES) >= 40 and len(ZONE_CASES) >= 5
    assert Path(PROJECT_DIR, "macros", "staging", "landing_casts.sql").is_file()
