"""No model joins two inputs that grow with the data by a nested loop (DuckDB's plans of the xs build).

DuckDB plans a nested-loop join when a join has no equality it can hash: an ON clause of inequalities
only, or a condition on one side alone inside a LEFT JOIN's ON (``left join b on a.k = b.k and a.x = 1``
cannot hash on ``a.k = b.k``). Its cost is the product of the two inputs: at scale l one such join made
``int_verbatim_tokens_scored`` take 472 s (issue 13). Which join DuckDB picks depends on the SQL's
shape, not on the row counts, so the xs build shows it; a nested loop against a single row (the as-of
date, a one-row aggregate) stays linear and is allowed, and so are the joins against a fixed list named
in FIXED_SIDES (at most that many rows on their small side, whatever the scale).
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
from conftest import Built

NESTED_LOOPS = {"NESTED_LOOP_JOIN", "BLOCKWISE_NL_JOIN"}

# model -> the most rows its nested loops may have on their small side: a fixed list, not data
FIXED_SIDES = {
    # macro join_metric_band: a score's band by `between` against the band seed of its metric
    "fct_survey_responses": 3,
    # every response once per experience metric (nps, csat, ces)
    "rox_experience_value": 3,
}


def nested_loops_of_growing_inputs(plan: dict) -> list[tuple[str, list[int]]]:
    """Every nested-loop join in an analysed plan whose inputs both produced more than one row."""
    found: list[tuple[str, list[int]]] = []
    children = plan.get("children", [])
    name = plan.get("operator_type") or plan.get("operator_name") or ""
    if name in NESTED_LOOPS:
        rows = [int(child.get("operator_cardinality") or 0) for child in children]
        if len(rows) == 2 and min(rows) > 1:
            found.append((name, rows))
    for child in children:
        found += nested_loops_of_growing_inputs(child)
    return found


def compiled_models(build: Built) -> list[Path]:
    root = build.warehouse.parent / "target" / "compiled" / "insight_engine" / "models"
    # generic tests compile into folders named after their YAML file: only the models' own SQL
    return sorted(p for p in root.rglob("*.sql") if not any(part.endswith(".yml") for part in p.parts))


def test_the_guard_finds_a_nested_loop_join_of_two_growing_inputs() -> None:
    with duckdb.connect() as con:
        con.execute("create table a as select range as k, range % 7 as x from range(50)")
        con.execute("create table b as select range as k from range(40)")
        shapes = {
            "left-only condition in ON": "select * from a left join b on a.k = b.k and a.x = 1",
            "hashable": "select * from a left join b on a.k = b.k where a.x = 1",
            "against one row": "select * from a inner join (select max(k) as m from b) as c on a.k <= c.m",
        }
        found = {
            shape: nested_loops_of_growing_inputs(
                json.loads(con.execute(f"explain (analyze, format json) {sql}").fetchall()[0][1])
            )
            for shape, sql in shapes.items()
        }
    assert found["left-only condition in ON"], "the guard must see the planted nested loop"
    assert sorted(found["left-only condition in ON"][0][1]) == [40, 50]
    assert not found["hashable"]
    assert not found["against one row"]


def test_no_model_joins_two_growing_inputs_by_a_nested_loop(xs: Built) -> None:
    models = compiled_models(xs)
    assert len(models) > 50, f"expected the compiled models of the xs build, found {len(models)}"
    offenders = {}
    with duckdb.connect(str(xs.warehouse), read_only=True) as con:
        con.execute("set TimeZone = 'UTC'")
        for path in models:
            analysed = con.execute(f"explain (analyze, format json) {path.read_text()}").fetchall()[0][1]
            found = [
                (name, rows)
                for name, rows in nested_loops_of_growing_inputs(json.loads(analysed))
                if min(rows) > FIXED_SIDES.get(path.stem, 1)
            ]
            if found:
                offenders[path.stem] = found
    assert not offenders, (
        "nested-loop joins whose cost is the product of two growing inputs (make the ON clause an "
        f"equality between both sides; move one-sided conditions to WHERE or into a join key): {offenders}"
    )
