"""Great Expectations gates: the raw gate over the landing zone and the mart gate over the warehouse.

A gate reads its suites from ``expectations/<stage>/*.json``: GX ``ExpectationSuite`` JSON whose
``meta.insight_engine.table`` names the table (``<system>.<table>`` in the landing zone, ``<schema>.<table>``
in the warehouse). Each expectation is evaluated by one of three engines:

* **schema** (``expect_table_columns_to_match_set``, ``expect_column_to_exist``,
  ``expect_column_values_to_be_in_type_list``, ``expect_column_values_to_be_of_type`` and the raw gate's
  ``expect_column_type_to_be_compatible_with_contract``): against the schema of every landing file of a raw
  table (a Parquet footer, a CSV header; a broken file is named) or of the warehouse table. A failed schema
  expectation of severity critical is fatal for its table: the row-level checks are skipped.
* **gx**: every other GX expectation (column map, column pair, multicolumn map, and the custom
  ``expect_table_columns_to_contain_no_pii``); its result has GX's form (element, missing and unexpected
  counts, the most frequent unexpected values, success recomputed against ``mostly``) whichever of two row
  engines counts it:

  - the **sql** row engine (both gates' default, ``validate(..., row_engine="sql")``) evaluates
    :data:`SQL_ROW_TYPES` (not null, match regex, in set, between, column pair A > B, column and compound
    columns unique: everything the raw suites use) as DuckDB aggregates with GX's pandas semantics. In the
    mart gate it reads the table's own types: a DECIMAL's uniqueness or its bounds other than whole
    numbers, a double's uniqueness or a boolean set stay GX's (pandas compares a Decimal with a float
    exactly and counts -0.0 and 0.0 as one value); a DECIMAL amount between whole numbers is DuckDB's
    (20 of the 27 s of the mart gate of an l daily run were GX over ``fct_orders``' amounts). The table's
    files are read once per gate run into a temp table (the column stats, load counts and foreign keys scan
    it too); one pass over its columns flags every row missing and unexpected per expectation (pandas'
    ``isnull`` incl. NaN, ``ignore_row_if``, strict bounds, ``or_equal``, every copy of a duplicated key),
    then counts and group-bys give the totals and the 20 most frequent unexpected values with exact counts.
    A regex is matched once per distinct value by pandas' own ``str.contains`` (RE2 or Python ``re``, as
    under GX). It leaves to GX what it cannot reproduce exactly: a ``row_condition``, a regex or set or
    bounds on a column of another type (``astype(str)`` of a number, booleans in a set, text bounds), bad
    arguments GX reports as an exception, and any other expectation type.
  - **gx** (``row_engine="gx"``, and both gates' leftovers above) runs GX's pandas
    datasource over chunks streamed from DuckDB (``to_arrow_reader``), aggregated into one result per
    expectation: counts summed, the most frequent values of each chunk's first 20 unexpected rows kept. GX's
    SQL datasource is not used (GX 1.24 reads its results after closing the DuckDB connection,
    great_expectations#11579). Uniqueness stays exact across chunks: rows are chunked by a hash of the key.

  ``tests/python/test_gate_engines.py`` runs both gates with both row engines and requires the same
  verdicts, counts, percentages and messages.
* **runner**: what GX has no expectation for, evaluated in DuckDB: ``expect_column_values_to_reference_table``
  (orphan foreign keys, across tables), ``expect_table_row_count_to_be_within_ratio_of_previous_load``, the
  raw gate's ``expect_column_values_to_be_castable_to_contract_type`` and the fill rates of optional columns.

**The raw gate reads the contract, not a copy of it.** The columns, their types, which are required and the
time zone of naive timestamps come from the dbt source YAMLs through :mod:`insight_engine.contract`. When a
raw suite is loaded, the gate adds per contract column: ``expect_column_to_exist`` (critical for a
``meta.required`` column, a warning otherwise), ``expect_column_type_to_be_compatible_with_contract`` (the
file's native type can be read as the column's family: any scalar as string, numbers or text as numbers ...)
and ``expect_column_values_to_be_castable_to_contract_type`` (row level, ``mostly``). Parquet and CSV files
(``*.csv``, ``*.csv.gz``) are read per format, every column cast with :func:`contract.cast_sql` exactly as
staging casts it, and united by name; the row-level checks see the cast values (timestamps as naive UTC,
ids as text), and ``<col>__utc`` is the UTC instant of a timestamp column. ``_loaded_at`` may be absent (the
end of the load day is used) or text. ``expect_column_values_to_not_be_null`` on a column that is not
required only reports its fill rate; a table without any file is reported ("no data delivered"), not failed
(a landing zone without a file for any table fails).

Row-level expectations carry ``mostly``: a load with a few percent bad rows passes and reports the rows
(staging quarantines them); ``meta.insight_engine.tolerated_rows`` also lets a handful of bad rows through in
tiny tables, where a single row is a large share. An expectation whose GX ``severity`` is ``warning`` or
``info`` is reported but does not fail the gate.

Outputs: ``<out_dir>/<stage>_results.json`` (machine-readable; raw tables carry ``warnings`` and a
``fill_rates`` block) and GX Data Docs under ``<out_dir>/<stage>_docs/index.html``, built by a file-backed GX
context in ``<out_dir>/gx_<stage>/``.
"""

from __future__ import annotations

import base64
import functools
import gzip
import hashlib
import json
import logging
import math
import os
import re
import shutil
import time
import zlib
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, ClassVar, Literal

import duckdb
import great_expectations as gx
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from great_expectations.core import ExpectationSuiteValidationResult, ExpectationValidationResult
from great_expectations.core.run_identifier import RunIdentifier
from great_expectations.data_context.types.base import ProgressBarsConfig
from great_expectations.data_context.types.resource_identifiers import (
    ExpectationSuiteIdentifier,
    ValidationResultIdentifier,
)
from great_expectations.expectations.expectation import (
    BatchExpectation,
    ColumnMapExpectation,
    ColumnPairMapExpectation,
    MulticolumnMapExpectation,
)
from great_expectations.expectations.registry import get_expectation_impl

from insight_engine import contract, duck, failpoints, gated

log = logging.getLogger(__name__)

Stage = Literal["raw", "marts"]
Engine = Literal["schema", "gx", "runner"]
RowEngine = Literal["sql", "gx"]
ROW_ENGINES: tuple[RowEngine, ...] = ("sql", "gx")
STAGES: tuple[Stage, ...] = ("raw", "marts")

PROJECT_DIR = Path(__file__).resolve().parents[1]
DEFAULT_SUITES_DIR = PROJECT_DIR / "expectations"
DEFAULT_CHUNK_ROWS = 250_000
SAMPLE_SIZE = 5
RESULT_FORMAT: dict[str, Any] = {"result_format": "BASIC", "partial_unexpected_count": 20}
LOAD_DATE = contract.LOAD_DATE
LOADED_AT = contract.LOADED_AT
PARSED_SUFFIX = "__utc"  # <col>__utc: the UTC instant of a timestamp column (raw gate)
UNCASTABLE_SUFFIX = "__uncastable"  # <col>__uncastable: the raw value is there but cannot be cast (raw gate)
CHUNK_COLUMN = "__ie_chunk"
DEFAULT_CASTABLE_MOSTLY = 0.99
# a fill rate is news when the newest load fills a column less than half as often as the earlier loads did
FILL_DROP_RATIO = 0.5
FILL_DROP_MIN_EARLIER = 0.1
FILL_DROP_MIN_ROWS = 20

EXIST = "expect_column_to_exist"
NOT_NULL = "expect_column_values_to_not_be_null"
CONTRACT_TYPE = "expect_column_type_to_be_compatible_with_contract"
CASTABLE = "expect_column_values_to_be_castable_to_contract_type"
REFERENCE = "expect_column_values_to_reference_table"
SCHEMA_TYPES = frozenset(
    {
        "expect_table_columns_to_match_set",
        EXIST,
        "expect_column_values_to_be_in_type_list",
        "expect_column_values_to_be_of_type",
        CONTRACT_TYPE,
    }
)
RUNNER_TYPES = frozenset(
    {
        REFERENCE,
        "expect_table_row_count_to_be_within_ratio_of_previous_load",
        "expect_table_row_count_to_be_between",  # GX's own, but over the whole table, not a chunk
        CASTABLE,
    }
)
# schema expectations a raw suite may not state for contract columns: the contract states them
CONTRACT_OWNED_TYPES = frozenset(
    {
        "expect_table_columns_to_match_set",
        EXIST,
        "expect_column_values_to_be_in_type_list",
        "expect_column_values_to_be_of_type",
    }
)
# table-level GX expectations whose answer is the same for every chunk (they look at column names only)
CHUNK_INVARIANT_TYPES = frozenset({"expect_table_columns_to_contain_no_pii"})
FAILING_SEVERITIES = frozenset({"critical"})

# Column names that look like personal data. Matched against the whole lower-cased name.
PII_PATTERNS: tuple[str, ...] = (
    r"(.*_)?e_?mail(_address)?",
    r"(.*_)?(phone|mobile|msisdn)(_number)?",
    r"(.*_)?(first|last|given|middle|family|full|sur)_?name",
    r"(.*_)?(birth_?date|date_of_birth|dob|birthday)",
    r"((customer|person|contact|user)_)?name",
)
# flags and counts about PII are not PII: has_email, n_emails, email_count
PII_EXEMPT_PREFIXES = ("is_", "has_", "n_")
PII_EXEMPT_SUFFIXES = ("_count", "_pct", "_share", "_rate")

RUNNER_ONLY = (
    "evaluated by the insight_engine gate runner in DuckDB (insight_engine.validate), not by GX alone"
)


def pii_columns(
    columns: Iterable[str], patterns: Sequence[str] = PII_PATTERNS, allow: Iterable[str] = ()
) -> list[str]:
    """The column names that look like personal data (e-mail, phone, names, birth date)."""
    allowed = {a.lower() for a in allow}
    found = []
    for column in columns:
        name = str(column).lower()
        if name in allowed or name.startswith(PII_EXEMPT_PREFIXES) or name.endswith(PII_EXEMPT_SUFFIXES):
            continue
        if any(re.fullmatch(p, name) for p in patterns):
            found.append(str(column))
    return found


# --------------------------------------------------------------------------------- custom GX types
class ExpectTableColumnsToContainNoPii(BatchExpectation):
    """Expect no column whose name looks like personal data (e-mail, phone, first/last name, birth date).

    Marts must not expose raw PII: people are identified by ``customer_key``. ``allow`` lists columns that
    match a pattern but hold no personal data. Evaluated by GX on every chunk.
    """

    patterns: tuple[str, ...] = PII_PATTERNS
    allow: tuple[str, ...] = ()

    metric_dependencies: ClassVar[tuple[str, ...]] = ("table.columns",)
    success_keys: ClassVar[tuple[str, ...]] = ("patterns", "allow")

    def _validate(
        self,
        metrics: dict,
        runtime_configuration: dict | None = None,
        execution_engine: Any = None,
    ) -> dict:
        found = pii_columns(metrics["table.columns"], self.patterns, self.allow)
        return {"success": not found, "result": {"observed_value": found}}


class ExpectColumnValuesToReferenceTable(BatchExpectation):
    """Expect every non-null ``column`` value to exist in ``parent_column`` of ``parent_table`` (no orphans).

    Evaluated by the gate runner in DuckDB, across tables.
    """

    column: str
    parent_table: str
    parent_column: str
    mostly: float = 1.0

    def _validate(
        self,
        metrics: dict,
        runtime_configuration: dict | None = None,
        execution_engine: Any = None,
    ) -> dict:
        raise NotImplementedError(RUNNER_ONLY)


class ExpectColumnTypeToBeCompatibleWithContract(BatchExpectation):
    """Expect every landing file to carry ``column`` in a type its contract ``family`` can be read from.

    string: any scalar type; integer: integers, floats, decimals, booleans or text; number: integers, floats,
    decimals or text; boolean: booleans, integers or text; timestamp and date: any TIMESTAMP*, DATE or text
    (:data:`insight_engine.contract.COMPATIBLE_KINDS`). BLOB, LIST, STRUCT, MAP ... fail, naming file and
    column. Derived from the contract by the raw gate; evaluated on each file's schema.
    """

    column: str
    family: str

    def _validate(
        self,
        metrics: dict,
        runtime_configuration: dict | None = None,
        execution_engine: Any = None,
    ) -> dict:
        raise NotImplementedError(RUNNER_ONLY)


class ExpectColumnValuesToBeCastableToContractType(BatchExpectation):
    """Expect the present values of ``column`` to cast to its contract ``family`` as staging casts them.

    A value is present when it is not null (and not blank, for text); it is uncastable when the cast of
    :func:`insight_engine.contract.cast_sql` gives null (an unparseable timestamp, text that is no number, a
    boolean word outside true/false/yes/no/1/0 ...). Uncastable values are row defects that staging
    quarantines: a few are reported, more than ``1 - mostly`` of the present values fail the table. Derived
    from the contract by the raw gate; evaluated in DuckDB.
    """

    column: str
    family: str
    mostly: float = 1.0

    def _validate(
        self,
        metrics: dict,
        runtime_configuration: dict | None = None,
        execution_engine: Any = None,
    ) -> dict:
        raise NotImplementedError(RUNNER_ONLY)


class ExpectTableRowCountToBeWithinRatioOfPreviousLoad(BatchExpectation):
    """Expect the newest load's row count to be within ``[min_ratio, max_ratio]`` times the previous load's.

    The newest load is the newest ``load_date`` of the whole landing zone, the previous one the load date
    before it, so a table whose newest folder is missing counts 0 rows. 0 rows after a load of at least
    ``min_previous_rows`` rows fails; smaller previous loads are too noisy to judge and are only reported.
    Evaluated by the gate runner in DuckDB.
    """

    min_ratio: float
    max_ratio: float
    min_previous_rows: int

    def _validate(
        self,
        metrics: dict,
        runtime_configuration: dict | None = None,
        execution_engine: Any = None,
    ) -> dict:
        raise NotImplementedError(RUNNER_ONLY)


# ----------------------------------------------------------------------------------------- results
@dataclass(frozen=True)
class ExpectationResult:
    """The outcome of one expectation over a whole table (all chunks, all files)."""

    expectation: str
    column: str | None
    engine: Engine
    success: bool
    severity: str
    kwargs: dict[str, Any]
    mostly: float | None = None
    element_count: int | None = None
    unexpected_count: int | None = None
    unexpected_percent: float | None = None
    observed_value: Any = None
    sample_values: list[Any] = field(default_factory=list)
    message: str = ""
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return f"{self.expectation}({self.column})" if self.column else self.expectation

    @property
    def blocking(self) -> bool:
        """A failure that fails the gate (severity critical)."""
        return not self.success and self.severity in FAILING_SEVERITIES


@dataclass(frozen=True)
class TableResult:
    """One suite's outcome on its table."""

    table: str
    suite: str
    success: bool
    rows: int | None
    chunks: int
    seconds: float
    errors: list[str]
    expectations: list[ExpectationResult]
    # raw gate: what deserves a look but never blocks (no data delivered, a column that emptied ...)
    warnings: list[str] = field(default_factory=list)
    # raw gate: column -> rows, filled, fill_rate, newest_load_fill_rate, earlier_loads_fill_rate, change ...
    fill_rates: dict[str, dict[str, Any]] = field(default_factory=dict)
    # raw gate: the loads this run read (the rest counted from the gated-loads state, insight_engine.gated)
    scope: str = ""
    rows_read: int | None = None

    def expectation(self, expectation: str, column: str | None = None) -> ExpectationResult:
        """The result of the first expectation of that type (and column), e.g. for tests and reports."""
        for r in self.expectations:
            if r.expectation == expectation and (column is None or r.column == column):
                return r
        raise KeyError(f"{self.table}: no result for {expectation}({column})")

    @property
    def failures(self) -> list[str]:
        return self.errors + [
            r.message for r in self.expectations if r.blocking and r.message and r.message not in self.errors
        ]

    @property
    def reported(self) -> list[ExpectationResult]:
        """Expectations that passed (or only warn) but found unexpected rows or something worth a look."""
        return [r for r in self.expectations if not r.blocking and r.message]


@dataclass(frozen=True)
class GateResult:
    """The outcome of a gate run: ``success`` is False if any table has a blocking failure."""

    stage: Stage
    success: bool
    tables: list[TableResult]
    seconds: float
    results_path: Path
    docs_path: Path | None

    def table(self, name: str) -> TableResult:
        for t in self.tables:
            if t.table == name:
                return t
        raise KeyError(f"no result for table {name!r} in the {self.stage} gate")

    @property
    def failures(self) -> list[str]:
        """What failed the gate: table, expectation and sample values (or file and column)."""
        return [msg for t in self.tables for msg in t.failures]

    @property
    def reported(self) -> list[str]:
        """What passed but found bad rows (left for staging to quarantine) or deserves a look (warnings)."""
        return [msg for t in self.tables for msg in [*(r.message for r in t.reported), *t.warnings]]

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["failures"] = self.failures
        out["reported"] = self.reported
        return _jsonable(out)


# ------------------------------------------------------------------------------------------ suites
@dataclass(frozen=True)
class Suite:
    """A suite file: the GX suite plus what the runner needs to know about its table."""

    name: str
    path: Path
    stage: Stage
    table: str
    gx_suite: gx.ExpectationSuite
    parsed_timestamps: tuple[str, ...] = ()
    tolerated_rows: int = 0
    contract: contract.Table | None = None  # raw suites: the table's contract

    def engine(self, expectation_type: str) -> Engine:
        if expectation_type in SCHEMA_TYPES:
            return "schema"
        if expectation_type in RUNNER_TYPES:
            return "runner"
        return "gx"

    def is_fill_rate(self, exp: Any) -> bool:
        """A not-null expectation on a contract column that is not required: a fill rate, reported only."""
        if self.contract is None or exp.expectation_type != NOT_NULL:
            return False
        column = exp.configuration.kwargs.get("column")
        return column in self.contract.column_names and column not in self.contract.required

    def engine_of(self, exp: Any) -> Engine:
        """The engine that evaluates this expectation (fill rates of optional columns: the runner)."""
        return "runner" if self.is_fill_rate(exp) else self.engine(exp.expectation_type)


class SuiteError(ValueError):
    """A suite file that cannot be used (bad JSON, unknown expectation, missing table name)."""


def load_suite(path: Path) -> Suite:
    """Read one suite file (GX ExpectationSuite JSON with ``meta.insight_engine``) into a :class:`Suite`."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise SuiteError(f"{path}: not a readable JSON suite ({exc})") from exc
    meta = (data.get("meta") or {}).get("insight_engine") or {}
    table = meta.get("table")
    stage = meta.get("stage") or path.parent.name
    if not table or len(str(table).split(".")) != 2:
        raise SuiteError(f"{path}: meta.insight_engine.table must name the table as '<schema>.<table>'")
    if stage not in STAGES:
        raise SuiteError(f"{path}: meta.insight_engine.stage must be one of {STAGES}, got {stage!r}")
    table_contract = None
    if stage == "raw":
        table_contract = _contract_of(path, str(table))
        data = {**data, "expectations": _raw_expectations(path, data, meta, table_contract)}
    try:
        suite = gx.ExpectationSuite(**{k: v for k, v in data.items() if k != "id"})
    except Exception as exc:  # GX raises a variety of errors for bad expectation configs
        raise SuiteError(f"{path}: not a valid GX expectation suite: {exc}") from exc
    for exp in suite.expectations:
        kind = exp.expectation_type
        if kind in SCHEMA_TYPES or kind in RUNNER_TYPES or kind in CHUNK_INVARIANT_TYPES:
            continue
        impl = get_expectation_impl(kind)
        if not issubclass(impl, ColumnMapExpectation | ColumnPairMapExpectation | MulticolumnMapExpectation):
            raise SuiteError(
                f"{path}: {kind} cannot be evaluated over chunks (it is not a row-level map expectation); "
                "use a row-level expectation or a runner check"
            )
    return Suite(
        name=suite.name,
        path=path,
        stage=stage,
        table=str(table),
        gx_suite=suite,
        parsed_timestamps=tuple(table_contract.of_family("timestamp") if table_contract else ()),
        tolerated_rows=int(meta.get("tolerated_rows") or 0),
        contract=table_contract,
    )


def _contract_of(path: Path, table: str) -> contract.Table:
    try:
        return contract.table(table)
    except contract.ContractError as exc:
        raise SuiteError(f"{path}: {exc} (the raw-data contract: {contract.SOURCES_GLOB})") from exc


def _raw_expectations(
    path: Path, data: dict[str, Any], meta: dict[str, Any], table: contract.Table
) -> list[dict[str, Any]]:
    """A raw suite's expectations plus those derived from the contract (existence, type, castability).

    The contract owns the schema: a raw suite that states a contract column's existence or type, or a column
    set, is refused, so no second copy of the contract can drift from it.
    """
    expectations = list(data.get("expectations") or [])
    owned = {*table.column_names, LOADED_AT}
    for exp in expectations:
        kind = exp.get("type") or exp.get("expectation_type")
        column = (exp.get("kwargs") or {}).get("column")
        if kind in CONTRACT_OWNED_TYPES and (column is None or column in owned):
            label = f"{kind}({column})" if column else kind
            raise SuiteError(
                f"{path}: {label}: the raw schema comes from the contract ({contract.SOURCES_GLOB}), "
                "and the gate derives these checks from it; remove the expectation from the suite"
            )
    timestamps = set(table.of_family("timestamp"))
    stray = [c for c in meta.get("parsed_timestamps") or () if c not in timestamps]
    if stray:
        raise SuiteError(
            f"{path}: parsed_timestamps {stray} are not timestamp columns of the contract; every timestamp "
            f"column gets its <col>{PARSED_SUFFIX} column anyway, so the key can go"
        )
    castable_mostly = float(meta.get("castable_mostly", DEFAULT_CASTABLE_MOSTLY))
    stated = {(e.get("type"), (e.get("kwargs") or {}).get("column")) for e in expectations}
    derived: list[dict[str, Any]] = []

    def add(kind: str, kwargs: dict[str, Any], severity: str, notes: str) -> None:
        if (kind, kwargs.get("column")) not in stated:
            derived.append(
                {
                    "type": kind,
                    "kwargs": kwargs,
                    "severity": severity,
                    "notes": notes,
                    "meta": {"insight_engine": {"derived_from": "contract"}},
                }
            )

    for col in table.columns:
        if col.required:
            add(EXIST, {"column": col.name}, "critical", "Required by the contract (meta.required).")
        else:
            add(
                EXIST,
                {"column": col.name},
                "warning",
                "Optional in the contract: a file without it is reported, and the column reads as null.",
            )
        add(
            CONTRACT_TYPE,
            {"column": col.name, "family": col.family},
            "critical",
            f"Contract type {col.data_type}: the files' type must be readable as {col.family}.",
        )
        add(
            CASTABLE,
            {"column": col.name, "family": col.family, "mostly": castable_mostly},
            "critical",
            f"Values cast to {col.family} as staging casts them; uncastable ones are quarantined there.",
        )
    add(
        EXIST,
        {"column": LOADED_AT},
        "warning",
        "Real exports rarely carry it: without it, the end of the load day (UTC) is used.",
    )
    add(
        CONTRACT_TYPE,
        {"column": LOADED_AT, "family": "timestamp"},
        "critical",
        "When present, a timestamp (naive values are UTC).",
    )
    add(
        CASTABLE,
        {"column": LOADED_AT, "family": "timestamp", "mostly": castable_mostly},
        "critical",
        "When present, it must parse (naive values are UTC).",
    )
    return derived + expectations


def load_suites(stage: Stage, suites_dir: Path | None = None) -> tuple[list[Suite], list[TableResult]]:
    """All suites of a stage; suite files that cannot be loaded come back as failed table results."""
    folder = (suites_dir or DEFAULT_SUITES_DIR) / stage
    suites: list[Suite] = []
    broken: list[TableResult] = []
    for path in sorted(folder.glob("*.json")):
        try:
            suite = load_suite(path)
            if suite.stage != stage:
                raise SuiteError(f"{path}: a {suite.stage} suite in the {stage} folder")
            suites.append(suite)
        except SuiteError as exc:
            log.error("%s", exc)
            broken.append(TableResult(path.stem, path.stem, False, None, 0, 0.0, [str(exc)], []))
    return suites, broken


# ----------------------------------------------------------------------------------------- sources
@dataclass(frozen=True)
class _SchemaUnit:
    """One schema to check: a landing file of a raw table (Parquet or CSV), or a warehouse table."""

    label: str
    columns: dict[str, str] | None  # column -> DuckDB type; None if unreadable
    error: str | None = None
    format: str | None = None  # raw: parquet | csv
    load_date: date | None = None  # raw: the date of the file's load_date= folder (None outside one)


def _csv_reader_token() -> str:
    """What a CSV file's described columns depend on besides its bytes: DuckDB's release and the reader's
    options (a remembered schema of another reader is read again)."""
    text = f"duckdb {duckdb.__version__} {contract.csv_reader_sql('f.csv')}"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _parquet_schema_memo(schema: pa.Schema) -> str:
    """A Parquet file's Arrow schema (no metadata) as text: the state keeps it, not the DuckDB types derived
    from it, so a change of :func:`_duckdb_type` applies to remembered files too."""
    return "parquet:" + base64.b64encode(schema.remove_metadata().serialize().to_pybytes()).decode("ascii")


def _csv_schema_memo(columns: dict[str, str]) -> str:
    return f"csv:{_csv_reader_token()}:" + json.dumps(columns)


@functools.lru_cache(maxsize=256)
def _schema_from_memo(memo: str, fmt: str) -> dict[str, str] | None:
    """The columns (name -> DuckDB type) a remembered schema stands for; None when it is of another format
    or CSV reader, or unreadable (the file is read again)."""
    kind, _, body = memo.partition(":")
    if kind != fmt:
        return None
    try:
        if kind == "parquet":
            schema = pa.ipc.read_schema(pa.py_buffer(base64.b64decode(body)))
            return {f.name: _duckdb_type(f.type) for f in schema}
        token, _, columns = body.partition(":")
        return dict(json.loads(columns)) if token == _csv_reader_token() else None
    except (ValueError, TypeError, pa.ArrowException):
        return None


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _duckdb_type(t: pa.DataType) -> str:
    """The DuckDB name of an Arrow type, as DuckDB reads it from Parquet."""
    if pa.types.is_dictionary(t):
        return _duckdb_type(t.value_type)
    if pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t):
        return "VARCHAR"
    if pa.types.is_timestamp(t):
        if t.tz is not None:
            return "TIMESTAMP WITH TIME ZONE"
        return {"s": "TIMESTAMP_S", "ms": "TIMESTAMP_MS", "us": "TIMESTAMP", "ns": "TIMESTAMP_NS"}[t.unit]
    if pa.types.is_decimal(t):
        return f"DECIMAL({t.precision},{t.scale})"
    if pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t):
        return f"{_duckdb_type(t.value_type)}[]"
    if pa.types.is_struct(t):
        return "STRUCT(" + ", ".join(f"{f.name} {_duckdb_type(f.type)}" for f in t) + ")"
    if pa.types.is_map(t):
        return f"MAP({_duckdb_type(t.key_type)}, {_duckdb_type(t.item_type)})"
    if pa.types.is_binary(t) or pa.types.is_large_binary(t) or pa.types.is_fixed_size_binary(t):
        return "BLOB"
    if pa.types.is_time(t):
        return "TIME"
    if pa.types.is_duration(t):
        return "INTERVAL"
    simple = {
        pa.bool_(): "BOOLEAN",
        pa.int8(): "TINYINT",
        pa.int16(): "SMALLINT",
        pa.int32(): "INTEGER",
        pa.int64(): "BIGINT",
        pa.uint8(): "UTINYINT",
        pa.uint16(): "USMALLINT",
        pa.uint32(): "UINTEGER",
        pa.uint64(): "UBIGINT",
        pa.float16(): "FLOAT",
        pa.float32(): "FLOAT",
        pa.float64(): "DOUBLE",
        pa.date32(): "DATE",
        pa.date64(): "DATE",
        pa.null(): "NULL",
    }
    return simple.get(t, str(t).upper())


def _find_column(columns: dict[str, str], name: str) -> str | None:
    """The file's spelling of a contract column (names match case-insensitively, as in dbt)."""
    if name in columns:
        return name
    lowered = name.lower()
    return next((c for c in columns if c.lower() == lowered), None)


class ContractReadError(Exception):
    """A raw table that cannot be read against its contract (a broken file, an incompatible column)."""


@dataclass(frozen=True)
class _FormatRead:
    """How one format (Parquet or CSV) of a raw table is read: reader, native types, per-column casts."""

    format: str
    files: list[Path]
    reader: str
    native: dict[str, tuple[str, str] | None]  # contract column (and _loaded_at) -> (file column, type)
    casts: dict[str, tuple[str, str]]  # column -> (value SQL, failed SQL)


class _RawSource:
    """The landing zone: ``<raw_root>/<system>/<table>/load_date=YYYY-MM-DD/*.parquet|*.csv|*.csv.gz``.

    Every table is read through a temp view that casts each contract column per format exactly as staging
    does (:func:`contract.cast_sql`) and unites the formats by name: ``<col>`` (the contract value),
    ``<col>__uncastable``, ``_loaded_at`` (naive UTC), ``_loaded_at__uncastable`` and ``load_date``.
    """

    kind = "raw"

    def __init__(self, con: duckdb.DuckDBPyConnection, raw_root: Path) -> None:
        self.con = con
        self.root = Path(raw_root)
        self._units: dict[str, list[_SchemaUnit]] = {}
        self._reads: dict[tuple[str, frozenset[date] | None], list[_FormatRead]] = {}
        self._views: dict[tuple[str, frozenset[date] | None], str] = {}
        self._materialized: dict[tuple[str, frozenset[date] | None], str] = {}  # -> the view it replaces
        self._sha_of: dict[str, str] = {}  # landing file (relative path) -> SHA-256, when fingerprinted
        self._known_schemas: dict[str, str] = {}  # SHA-256 -> schema read before (gated.State.schemas)
        self._read_schemas: dict[str, str] = {}  # SHA-256 -> schema of the fingerprinted files, this run

    def remember_schemas(self, known: dict[str, str], landing: dict[str, list]) -> None:
        """Take the schemas read before (file SHA-256 -> :func:`_schema_memo` value) and the zone's
        fingerprints (``system/table/load_date=D`` -> name, size, mtime_ns, sha256 per file): a landing file
        whose hash is known is not opened to read its schema again."""
        self._known_schemas = dict(known)
        self._sha_of = {f"{folder}/{f[0]}": str(f[3]) for folder, files in landing.items() for f in files}

    def schemas_read(self) -> dict[str, str]:
        """The schema of every fingerprinted file this run checked, by SHA-256 (what the state keeps)."""
        return dict(self._read_schemas)

    def _remembered(self, rel: str, fmt: str) -> dict[str, str] | None:
        sha = self._sha_of.get(rel)
        memo = self._known_schemas.get(sha) if sha is not None else None
        columns = _schema_from_memo(memo, fmt) if memo is not None else None
        if columns is not None:
            self._read_schemas[sha] = memo  # type: ignore[index]
        return columns

    def _remember(self, rel: str, memo: str) -> None:
        sha = self._sha_of.get(rel)
        if sha is not None:
            self._read_schemas[sha] = memo

    def folder(self, table: str) -> Path:
        system, name = table.split(".")
        return self.root / system / name

    def files(self, table: str) -> list[Path]:
        """Every landing file of the table (Parquet and CSV, hidden files and other names ignored)."""
        folder = self.folder(table)
        return [folder / rel for rel in _landing_files(folder)]

    def no_data_message(self, table: str) -> str:
        folder = self.folder(table)
        where = f"{folder} has no Parquet or CSV files" if folder.is_dir() else f"{folder} does not exist"
        return (
            f"no data delivered for {table} ({where}): the table reads as empty and its cross-table checks "
            "are skipped (reported, not blocking)"
        )

    def schema_units(self, table: str) -> list[_SchemaUnit]:
        """One unit per landing file (its Parquet footer or CSV header); [] when no data was delivered."""
        if table in self._units:
            return self._units[table]
        folder = self.folder(table)
        prefix = str(folder.relative_to(self.root))
        units = []
        for inside in _landing_files(folder):
            rel = f"{prefix}/{inside}"
            fmt = contract.file_format(inside)
            loaded = _file_load_date(inside)
            if loaded is None:
                units.append(
                    _SchemaUnit(
                        rel,
                        None,
                        f"{rel}: not inside a load_date=YYYY-MM-DD partition folder of {table}",
                        fmt,
                    )
                )
                continue
            remembered = self._remembered(rel, fmt)
            if remembered is not None:  # the same bytes were read before: the same schema
                units.append(_SchemaUnit(rel, remembered, None, fmt, loaded))
                continue
            path = folder / inside
            if fmt == "parquet":
                try:
                    schema = pq.read_schema(path)
                except Exception as exc:  # pyarrow raises ArrowInvalid, OSError ... for broken files
                    units.append(
                        _SchemaUnit(rel, None, f"{rel}: unreadable Parquet file ({exc})", fmt, loaded)
                    )
                    continue
                memo = _parquet_schema_memo(schema)
                self._remember(rel, memo)
                units.append(_SchemaUnit(rel, _schema_from_memo(memo, fmt), None, fmt, loaded))
            else:
                damaged = _gzip_damage(path) if path.name.endswith(".gz") else None
                if damaged:
                    units.append(
                        _SchemaUnit(rel, None, f"{rel}: unreadable CSV file ({damaged})", fmt, loaded)
                    )
                    continue
                try:
                    rows = self.con.execute(
                        f"describe select * from {contract.csv_reader_sql(path)}"
                    ).fetchall()
                except duckdb.Error as exc:
                    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                    units.append(_SchemaUnit(rel, None, f"{rel}: unreadable CSV file ({first})", fmt, loaded))
                    continue
                columns = {r[0]: r[1] for r in rows if r[0] != LOAD_DATE}
                self._remember(rel, _csv_schema_memo(columns))
                units.append(_SchemaUnit(rel, columns, None, fmt, loaded))
        self._units[table] = units
        return units

    def _format_reads(self, table: str, loads: frozenset[date] | None = None) -> list[_FormatRead]:
        """The table's files per format (only those of ``loads`` when given), with their casts."""
        if (table, loads) in self._reads:
            return self._reads[(table, loads)]
        spec = contract.table(table)
        zone = spec.timezone
        units = self.schema_units(table)
        broken = [u.error for u in units if u.columns is None]
        if broken:
            raise ContractReadError(f"{table}: {broken[0]}")
        if loads is not None:
            units = [u for u in units if u.load_date in loads]
        reads = []
        for fmt in ("parquet", "csv"):
            of_format = [u for u in units if u.format == fmt]
            files = [self.root / u.label for u in of_format]
            if not files:
                continue
            if fmt == "parquet":
                schemas, _, _ = _schema_groups(of_format)
                reader = contract.parquet_reader_sql(files, one_schema=len(schemas) == 1)
            else:
                reader = contract.csv_reader_sql(files)
            described = {r[0]: r[1] for r in self.con.execute(f"describe select * from {reader}").fetchall()}
            native: dict[str, tuple[str, str] | None] = {}
            casts: dict[str, tuple[str, str]] = {}
            for col in spec.columns:
                found = _find_column(described, col.name)
                native[col.name] = (found, described[found]) if found else None
                if found is None:
                    casts[col.name] = (f"cast(null as {contract.SQL_TYPES[col.family]})", "false")
                    continue
                try:
                    casts[col.name] = contract.cast_sql(_quote(found), described[found], col, zone)
                except contract.ContractError as exc:
                    raise ContractReadError(f"{table}: {fmt} files: {exc}") from exc
            found = _find_column(described, LOADED_AT)
            native[LOADED_AT] = (found, described[found]) if found else None
            try:
                casts[LOADED_AT] = contract.loaded_at_sql(
                    _quote(found) if found else None, described[found] if found else None
                )
            except contract.ContractError as exc:
                raise ContractReadError(f"{table}: {fmt} files: {exc}") from exc
            reads.append(_FormatRead(fmt, files, reader, native, casts))
        self._reads[(table, loads)] = reads
        return reads

    def relation(self, table: str, loads: frozenset[date] | None = None) -> str:
        """A temp view of the table in its contract representation (built once per gate run); with
        ``loads``, of those load folders only (the loads a gate run has not validated before)."""
        if (table, loads) in self._views:
            return self._views[(table, loads)]
        spec = contract.table(table)
        suffix = "" if loads is None else f"__new{len(self._views)}"
        view = _quote(f"__ie_raw__{table.replace('.', '__')}{suffix}")
        names = [*spec.column_names, LOADED_AT]
        selects = []
        for read in self._format_reads(table, loads):
            items = [f"{read.casts[c][0]} as {_quote(c)}" for c in names]
            items += [f"{read.casts[c][1]} as {_quote(c + UNCASTABLE_SUFFIX)}" for c in names]
            items.append(f"cast({LOAD_DATE} as date) as {LOAD_DATE}")
            selects.append("select " + ", ".join(items) + f" from {read.reader}")
        if not selects:  # no data delivered: an empty table of the contract's types
            items = [
                f"cast(null as {contract.SQL_TYPES[c.family]}) as {_quote(c.name)}" for c in spec.columns
            ]
            items.append(f"cast(null as timestamp) as {LOADED_AT}")
            items += [f"false as {_quote(c + UNCASTABLE_SUFFIX)}" for c in names]
            items.append(f"cast(null as date) as {LOAD_DATE}")
            selects.append("select " + ", ".join(items) + " where false")
        sql = "\nunion all by name\n".join(selects)
        self.con.execute(f"create or replace temp view {view} as {sql}")
        self._views[(table, loads)] = view
        return view

    def materialize(self, table: str, loads: frozenset[date] | None = None) -> bool:
        """Read the table's files (of ``loads``) once into a DuckDB temp table that :meth:`relation` then
        names, until :meth:`release`: the gate's checks of one table scan it instead of re-reading and
        re-casting every file (DuckDB's buffer manager bounds its memory: it spills)."""
        view = self.relation(table, loads)
        name = _quote(f"__ie_table__{table.replace('.', '__')}")
        self.con.execute(f"create or replace temp table {name} as select * from {view}")
        self._materialized[(table, loads)] = view
        self._views[(table, loads)] = name
        return True

    def release(self, table: str, loads: frozenset[date] | None = None) -> None:
        """Drop the temp table of :meth:`materialize`: :meth:`relation` names the view again."""
        view = self._materialized.pop((table, loads))
        name = self._views[(table, loads)]
        self._views[(table, loads)] = view
        self.con.execute(f"drop table if exists {name}")

    def view_columns(self, table: str) -> set[str]:
        """The columns of :meth:`relation`, plus the ``<col>__utc`` names the gate derives from it."""
        spec = contract.table(table)
        names = [*spec.column_names, LOADED_AT]
        return {
            *names,
            *(c + UNCASTABLE_SUFFIX for c in names),
            *(c + PARSED_SUFFIX for c in spec.of_family("timestamp")),
            LOAD_DATE,
        }

    def uncastable_samples(
        self,
        table: str,
        columns: Sequence[str],
        n: int = SAMPLE_SIZE,
        loads: frozenset[date] | None = None,
    ) -> dict[str, list]:
        """The most frequent raw values of ``columns`` that do not cast (one scan per format)."""
        out: dict[str, list[Any]] = {c: [] for c in columns}
        for read in self._format_reads(table, loads):
            cols = [c for c in columns if read.native.get(c)]
            if not cols:
                continue
            items = []
            for c in cols:
                found = read.native[c]
                assert found is not None
                raw = f"cast({_quote(found[0])} as varchar)"
                items.append(f"approx_top_k({raw}, {n}) filter (where {read.casts[c][1]})")
            row = self.con.execute(f"select {', '.join(items)} from {read.reader}").fetchall()[0]
            for c, values in zip(cols, row, strict=True):
                out[c] += [v for v in values or [] if v not in out[c]]
        return {c: v[:n] for c, v in out.items()}

    def diagnose(self, table: str) -> list[str]:
        """Read every CSV file of the table on its own and name those that cannot be read."""
        problems = []
        for u in self.schema_units(table):
            if u.format != "csv" or u.columns is None:
                continue
            try:
                self.con.execute(
                    f"select count(*) from {contract.csv_reader_sql(self.root / u.label)}"
                ).fetchall()
            except duckdb.Error as exc:
                first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                problems.append(f"{u.label}: unreadable CSV file ({first})")
        return problems

    def load_dates(self, table: str) -> set[date]:
        """The load dates whose folder holds a landing file of the table."""
        loaded = (_file_load_date(inside) for inside in _landing_files(self.folder(table)))
        return {d for d in loaded if d is not None}


def _gzip_damage(path: Path) -> str | None:
    """Why a gzipped file is damaged (truncated, corrupt), or None. DuckDB reads the rows of a truncated
    .csv.gz up to the cut without an error, so the gate decompresses it to the end (streaming)."""
    try:
        with gzip.open(path, "rb") as stream:
            while stream.read(1 << 20):
                pass
    except (OSError, EOFError, zlib.error) as exc:
        return f"truncated or corrupt gzip: {exc}"
    return None


def _landing_files(folder: Path) -> list[str]:
    """A table folder's landing files (Parquet and CSV; hidden files and other names ignored), as paths
    relative to it in ``/`` form, in the order of sorted ``Path`` objects (part by part).

    One ``os.scandir`` per folder: a table of scale l has 7,300 files, and ``rglob`` with a ``stat`` and a
    ``Path`` per file cost the raw gate 4.6 s of a daily run there. As ``rglob`` and ``Path.is_file``: a
    linked file counts, a linked folder is not descended into."""
    found: list[tuple[str, ...]] = []

    def walk(directory: str, parts: tuple[str, ...]) -> None:
        try:
            entries = list(os.scandir(directory))
        except (FileNotFoundError, NotADirectoryError, PermissionError):
            return
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):  # as rglob: no descent into linked folders
                walk(entry.path, (*parts, entry.name))
            elif entry.is_file() and contract.file_format(entry.name):
                found.append((*parts, entry.name))

    walk(str(folder), ())
    return ["/".join(parts) for parts in sorted(found)]


def _file_load_date(inside: str) -> date | None:
    """The load date of a landing file given relative to its table folder (``load_date=D/<file>``); None
    for a file anywhere else (beside the load folders, deeper, or in a folder of another name)."""
    partition, sep, name = inside.partition("/")
    return _partition_date(partition) if sep and "/" not in name else None


@functools.lru_cache(maxsize=65_536)
def _partition_date(name: str) -> date | None:
    """The date a ``load_date=YYYY-MM-DD`` folder name stands for (None for any other name)."""
    if not name.startswith(f"{LOAD_DATE}="):
        return None
    try:
        return date.fromisoformat(name.split("=", 1)[1])
    except ValueError:
        return None


class _WarehouseSource:
    """Tables in a DuckDB warehouse file, read as ``select * from <schema>.<table>``."""

    kind = "marts"

    def __init__(self, con: duckdb.DuckDBPyConnection, warehouse: Path) -> None:
        self.con = con
        self.warehouse = warehouse

    def columns(self, table: str) -> dict[str, str]:
        schema, name = table.split(".")
        rows = self.con.execute(
            "select column_name, data_type from information_schema.columns "
            "where table_schema = ? and table_name = ? order by ordinal_position",
            [schema, name],
        ).fetchall()
        return {c: t for c, t in rows}

    def schema_units(self, table: str) -> list[_SchemaUnit]:
        cols = self.columns(table)
        if not cols:
            return [
                _SchemaUnit(
                    table,
                    None,
                    f"table {table} not found in {self.warehouse} (build it first: insight-engine build)",
                )
            ]
        return [_SchemaUnit(table, cols)]

    def relation(self, table: str) -> str:
        schema, name = table.split(".")
        return f"{_quote(schema)}.{_quote(name)}"


_Source = _RawSource | _WarehouseSource


# ----------------------------------------------------------------------------------------- helpers
def _jsonable(value: Any) -> Any:
    """Plain JSON types (for results, samples and the GX stores)."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_jsonable(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, pd.Timestamp | datetime | date):
        return value.isoformat()
    if isinstance(value, np.generic):
        return _jsonable(value.item())
    if isinstance(value, float) and math.isnan(value):
        return None
    if value is pd.NaT or value is pd.NA:
        return None
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


def _columns_of(kwargs: dict[str, Any]) -> list[str]:
    if "column" in kwargs:
        return [kwargs["column"]]
    if "column_list" in kwargs:
        return list(kwargs["column_list"])
    if "column_A" in kwargs:
        return [kwargs["column_A"], kwargs["column_B"]]
    return []


def _column_label(kwargs: dict[str, Any]) -> str | None:
    cols = _columns_of(kwargs)
    return ", ".join(cols) if cols else None


def _kwargs(exp: Any) -> dict[str, Any]:
    kw = dict(exp.configuration.kwargs)
    kw.pop("batch_id", None)
    return _jsonable(kw)


def _severity(exp: Any) -> str:
    sev = getattr(exp, "severity", "critical")
    return str(getattr(sev, "value", sev) or "critical")


def _type_matches(actual: str, allowed: Iterable[str]) -> bool:
    actual = actual.upper()
    for t in allowed:
        t = str(t).upper()
        if actual == t or actual.startswith(t + "("):
            return True
    return actual == "NULL"  # an all-null column (Arrow null type) reads as any type


def _samples(values: Iterable[Any], n: int = SAMPLE_SIZE) -> str:
    return ", ".join(repr(v) for v in list(values)[:n])


# ----------------------------------------------------------------------------------- schema engine
def _derived(exp: Any) -> bool:
    """Whether the raw gate derived this expectation from the contract (rather than the suite stating it)."""
    return ((exp.meta or {}).get("insight_engine") or {}).get("derived_from") == "contract"


def _schema_groups(readable: list[_SchemaUnit]) -> tuple[list[dict[str, str]], list[int], Counter[int]]:
    """The distinct schemas of readable units (first seen first), each unit's index into them, and how
    many units have each: the schema checks judge a schema once, not once per file (7,300 files of one
    schema per table at scale l)."""
    index: dict[tuple[tuple[str, str], ...], int] = {}
    schemas: list[dict[str, str]] = []
    group_of: list[int] = []
    for u in readable:
        assert u.columns is not None
        key = tuple(u.columns.items())
        i = index.get(key)
        if i is None:
            i = index[key] = len(schemas)
            schemas.append(u.columns)
        group_of.append(i)
    return schemas, group_of, Counter(group_of)


def _unit_problems(
    readable: list[_SchemaUnit], group_of: list[int], per_schema: list[list[str]]
) -> list[str]:
    """Each unit's problems (its schema's, prefixed with its label), in unit order."""
    if not any(per_schema):
        return []
    return [f"{u.label}: {p}" for u, i in zip(readable, group_of, strict=True) for p in per_schema[i]]


def _schema_results(suite: Suite, table: str, units: list[_SchemaUnit]) -> list[ExpectationResult]:
    results = []
    unreadable = [u for u in units if u.columns is None]
    readable = [u for u in units if u.columns is not None]
    schemas, group_of, group_size = _schema_groups(readable)
    for exp in suite.gx_suite.expectations:
        kind = exp.expectation_type
        if kind not in SCHEMA_TYPES:
            continue
        kw = _kwargs(exp)
        severity = _severity(exp)
        derived = _derived(exp)
        # an unreadable file fails the column checks; type checks judge the files that could be read
        # (derived checks leave unreadable files to the table's errors: they are fatal there already)
        problems: list[str] = (
            [u.error or f"{u.label}: unreadable" for u in unreadable]
            if kind in ("expect_table_columns_to_match_set", EXIST) and not derived
            else []
        )
        observed: Any = None
        message = ""
        if kind == "expect_table_columns_to_match_set":
            expected = list(kw.get("column_set") or [])
            per_schema = []
            for columns in schemas:
                missing = [c for c in expected if c not in columns]
                extra = [c for c in columns if c not in expected] if kw.get("exact_match", True) else []
                per_schema.append(
                    ([f"missing column(s) {', '.join(missing)}"] if missing else [])
                    + ([f"unexpected column(s) {', '.join(extra)}"] if extra else [])
                )
            problems += _unit_problems(readable, group_of, per_schema)
            observed = sorted({c for columns in schemas for c in columns})
        elif kind == EXIST:
            col = kw["column"]
            required = derived and severity in FAILING_SEVERITIES
            what = "required column" if required else "column"
            absent = {i for i, columns in enumerate(schemas) if _find_column(columns, col) is None}
            missing_in = [u for u, i in zip(readable, group_of, strict=True) if i in absent] if absent else []
            problems += [f"{u.label}: missing {what} {col}" for u in missing_in]
            observed = col if not problems else None
            if missing_in and derived and not required:
                n, first = len(missing_in), missing_in[0].label
                scope = "every file" if n == len(readable) else f"{n} of {len(readable)} files"
                consequence = (
                    "the end of the load day (UTC) stands in for it"
                    if col == LOADED_AT
                    else "it reads as null there"
                )
                message = (
                    f"{table}: optional column {col} is absent from {scope} (e.g. {first}): {consequence}; "
                    "reported, not blocking"
                )
        elif kind == CONTRACT_TYPE:
            col, family = kw["column"], kw["family"]
            seen: Counter[str] = Counter()
            per_schema = []
            for i, columns in enumerate(schemas):
                found = _find_column(columns, col)
                if found is None:
                    per_schema.append([])  # existence is the existence check's business
                    continue
                actual = columns[found]
                seen[actual] += group_size[i]
                per_schema.append(
                    []
                    if contract.compatible(actual, family)
                    else [
                        f"column {col} has type {actual}, which cannot be read as {family} "
                        f"(compatible: {_compatible_kinds(family)})"
                    ]
                )
            problems += _unit_problems(readable, group_of, per_schema)
            observed = ", ".join(sorted(seen)) or None
        else:  # type checks
            col = kw["column"]
            allowed = kw.get("type_list") or [kw.get("type_")]
            seen = Counter()
            per_schema = []
            for i, columns in enumerate(schemas):
                actual = columns.get(col)
                if actual is None:
                    per_schema.append([f"column {col} is missing (expected type {' | '.join(allowed)})"])
                    continue
                seen[actual] += group_size[i]
                per_schema.append(
                    []
                    if _type_matches(actual, allowed)
                    else [f"column {col} has type {actual}, expected {' | '.join(allowed)}"]
                )
            problems += _unit_problems(readable, group_of, per_schema)
            observed = ", ".join(sorted(seen)) or None
        success = not problems
        if problems:
            more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
            observed = "; ".join(problems[:3]) + more
            label = f"{kind}({_column_label(kw)})" if _column_label(kw) else kind
            message = message or f"{table}: {label} failed: {observed}"
        results.append(
            ExpectationResult(
                expectation=kind,
                column=_column_label(kw),
                engine="schema",
                success=success,
                severity=severity,
                kwargs=kw,
                observed_value=observed,
                message=message,
                details={
                    "problems": problems[:100],
                    "n_problems": len(problems),
                    "units_checked": len(units),
                },
            )
        )
    return results


def _compatible_kinds(family: str) -> str:
    kinds = sorted(contract.COMPATIBLE_KINDS[family] - {"null"})  # type: ignore[index]
    names = {"scalar": "other scalars", "timestamp": "TIMESTAMP*", "timestamptz": "TIMESTAMPTZ"}
    return ", ".join(names.get(k, k.upper() if k in ("date", "blob") else k) for k in kinds)


# --------------------------------------------------------------------------------------- gx engine
@dataclass
class _Aggregate:
    """Per-expectation accumulator over chunks."""

    exp: Any
    element_count: int = 0
    missing_count: int = 0
    unexpected_count: int = 0
    is_map: bool = False
    table_success: bool = True
    observed: Any = None
    counts: Counter[str] = field(default_factory=Counter)
    values: dict[str, Any] = field(default_factory=dict)
    exceptions: list[str] = field(default_factory=list)
    row_engine: RowEngine = "gx"  # sql: counted by the DuckDB row engine (exact sample counts)

    def add(self, evr: ExpectationValidationResult) -> None:
        info = evr.exception_info or {}
        if info.get("raised_exception"):
            self.exceptions.append(str(info.get("exception_message") or "GX raised an exception"))
            return
        res = evr.result or {}
        if "unexpected_count" in res:
            self.is_map = True
            self.element_count += int(res.get("element_count") or 0)
            self.missing_count += int(res.get("missing_count") or 0)
            self.unexpected_count += int(res.get("unexpected_count") or 0)
            kw = self.exp.configuration.kwargs
            for value in res.get("partial_unexpected_list") or []:
                if isinstance(value, tuple) and "column_A" in kw:
                    value = {kw["column_A"]: value[0], kw["column_B"]: value[1]}
                value = _jsonable(value)
                key = json.dumps(value, sort_keys=True, default=str)
                self.counts[key] += 1
                self.values[key] = value
        else:
            if not evr.success:
                if self.table_success:
                    self.observed = res.get("observed_value")
                self.table_success = False
            elif self.observed is None:
                self.observed = res.get("observed_value")

    def result(self, suite: Suite, table: str) -> ExpectationResult:
        kw = _kwargs(self.exp)
        kind = self.exp.expectation_type
        label = f"{kind}({_column_label(kw)})" if _column_label(kw) else kind
        common = {
            "expectation": kind,
            "column": _column_label(kw),
            "engine": "gx",
            "severity": _severity(self.exp),
            "kwargs": kw,
        }
        if self.exceptions:
            msg = f"{table}: {label} could not be evaluated: {self.exceptions[0]}"
            return ExpectationResult(
                success=False, message=msg, details={"exceptions": self.exceptions}, **common
            )
        if not self.is_map:
            ok = self.table_success
            observed = _jsonable(self.observed)
            msg = "" if ok else f"{table}: {label} failed: observed {observed!r}"
            return ExpectationResult(success=ok, observed_value=observed, message=msg, **common)
        mostly = kw.get("mostly")
        denominator = self.element_count - self.missing_count
        unexpected = self.unexpected_count
        pct = 100.0 * unexpected / denominator if denominator else 0.0
        tolerated = suite.tolerated_rows if mostly is not None else 0
        ok = (
            unexpected == 0
            or unexpected <= tolerated
            or (mostly is not None and (denominator - unexpected) / denominator >= mostly)
        )
        top = [self.values[k] for k, _ in self.counts.most_common(SAMPLE_SIZE)]
        allowed = 100.0 * (1 - (mostly if mostly is not None else 1.0))
        if unexpected == 0 or (ok and (self.exp.meta or {}).get("fill_rate")):
            msg = ""  # nulls in a nullable column are not bad rows: only a too-low fill rate is news
        elif ok:
            msg = (
                f"{table}: {label}: {unexpected:,} of {denominator:,} rows unexpected ({pct:.2f}%), "
                f"within the threshold (mostly={mostly}, {suite.tolerated_rows} rows tolerated); "
                f"e.g. {_samples(top)}"
            )
        else:
            msg = (
                f"{table}: {label} failed: {unexpected:,} of {denominator:,} rows unexpected ({pct:.2f}%), "
                f"at most {allowed:.2f}% allowed; e.g. {_samples(top)}"
            )
        return ExpectationResult(
            success=ok,
            mostly=mostly,
            element_count=self.element_count,
            unexpected_count=unexpected,
            unexpected_percent=round(pct, 4),
            observed_value=f"{pct:.2f}% unexpected",
            sample_values=top,
            message=msg,
            details={
                "missing_count": self.missing_count,
                # gx: counted over the sampled unexpected values (up to 20 per chunk), not over all rows;
                # sql: the 20 most frequent unexpected values, counted over all rows read
                "sample_value_counts": [
                    {"value": self.values[k], "count": c} for k, c in self.counts.most_common(20)
                ],
                **({"row_engine": "sql"} if self.row_engine == "sql" else {}),
            },
            **common,
        )


def _partition_columns(expectations: Sequence[Any]) -> list[str]:
    """Columns to hash rows into chunks by, so that every uniqueness expectation sees all copies of a key."""
    keysets = []
    for exp in expectations:
        kw = exp.configuration.kwargs
        if exp.expectation_type == "expect_column_values_to_be_unique":
            keysets.append([kw["column"]])
        elif exp.expectation_type == "expect_compound_columns_to_be_unique":
            keysets.append(list(kw["column_list"]))
    if not keysets:
        return []
    common = [c for c in keysets[0] if all(c in ks for ks in keysets[1:])]
    if not common:
        log.warning("uniqueness expectations share no column: duplicates are only found within a chunk")
        return keysets[0]
    return common


def _chunks(
    con: duckdb.DuckDBPyConnection, sql: str, total_rows: int, chunk_rows: int, key_columns: Sequence[str]
) -> Iterator[pd.DataFrame]:
    """Stream the query's rows as pandas chunks of about ``chunk_rows`` rows; equal keys stay together."""
    n_chunks = max(1, math.ceil(total_rows / chunk_rows))
    if n_chunks == 1:
        yield con.execute(sql).to_arrow_table().to_pandas()
        return
    if key_columns:
        keys = ", ".join(_quote(c) for c in key_columns)
        sql = (
            f"select *, (hash({keys}) % {n_chunks})::bigint as {CHUNK_COLUMN} from ({sql}) "
            f"order by {CHUNK_COLUMN}"
        )
    else:
        sql = f"select *, (row_number() over () // {chunk_rows})::bigint as {CHUNK_COLUMN} from ({sql})"
    reader = con.execute(sql).to_arrow_reader(min(chunk_rows, 1_000_000))
    buffer: list[pa.RecordBatch] = []
    current: int | None = None
    for batch in reader:
        ids = batch.column(CHUNK_COLUMN).to_numpy()
        starts = [0, *(np.flatnonzero(np.diff(ids)) + 1).tolist()]
        for i, start in enumerate(starts):
            end = starts[i + 1] if i + 1 < len(starts) else len(ids)
            chunk_id = int(ids[start])
            if current is not None and chunk_id != current and buffer:
                yield pa.Table.from_batches(buffer).drop_columns([CHUNK_COLUMN]).to_pandas()
                buffer = []
            current = chunk_id
            buffer.append(batch.slice(start, end - start))
    if buffer:
        yield pa.Table.from_batches(buffer).drop_columns([CHUNK_COLUMN]).to_pandas()


def _relation_of(source: _Source, table: str, loads: frozenset[date] | None = None) -> str:
    """The rows of ``table``: a raw table's (of ``loads`` only, when given), or a warehouse table's."""
    return source.relation(table, loads) if isinstance(source, _RawSource) else source.relation(table)


def _source_column(suite: Suite, source: _Source, col: str) -> str:
    """How a column an expectation names is read: itself, or for a raw table's ``<col>__utc`` the timestamp
    column ``<col>`` (the contract view already holds UTC instants)."""
    if isinstance(source, _RawSource) and col.endswith(PARSED_SUFFIX):
        base = col[: -len(PARSED_SUFFIX)]
        if base in suite.parsed_timestamps:
            return _quote(base)
    return _quote(col)


def _select_sql(
    suite: Suite, source: _Source, expectations: Sequence[Any], loads: frozenset[date] | None = None
) -> str:
    """The rows GX sees: only the columns the expectations name (raw tables: in their contract
    representation, see :func:`_source_column`; with ``loads``, only the rows of those load folders)."""
    relation = _relation_of(source, suite.table, loads)
    if any(e.configuration.kwargs.get("row_condition") for e in expectations):
        # every column (a row condition may name any), and the <col>__utc names a raw view does not hold
        utc = "".join(f", {_quote(b)} as {_quote(b + PARSED_SUFFIX)}" for b in suite.parsed_timestamps)
        return f"select *{utc} from {relation}"
    wanted = list(dict.fromkeys(c for e in expectations for c in _columns_of(e.configuration.kwargs)))
    items = []
    for col in wanted:
        read = _source_column(suite, source, col)
        items.append(read if read == _quote(col) else f"{read} as {_quote(col)}")
    nothing = "1 as __ie_none" if isinstance(source, _RawSource) else "*"
    return f"select {', '.join(items) or nothing} from {relation}"


# ----------------------------------------------------------------------------------- runner engine
CHILD_TABLE = "__ie_child"


# a child table's orphans are kept in the gated-loads state up to this many distinct values; past it the
# next daily gate reads the child's every load again (a state file of millions of orphan ids helps no one)
REFERENCE_ORPHANS_KEPT = 50_000


def _references_incremental(suite: Suite, run: _Run, exps: list[Any], scope: gated.Scope | None) -> bool:
    """Whether the child's new loads and its kept orphans stand for its every load. They do when its gated
    loads are unchanged and so are every parent's (a parent's keys only grow, so an old value with a parent
    keeps it); the parent keys are still read whole, so a late parent clears an old orphan."""
    if scope is None or scope.cached is None or scope.cached.references is None:
        return False
    for exp in exps:
        kept = scope.cached.references.get(_gx_key(exp))
        # never kept, too many orphans to keep, or not what this code writes (a state edited by hand)
        if not (isinstance(kept, dict) and isinstance(kept.get("total"), int)):
            return False
        if not isinstance(kept.get("orphans"), list):
            return False
        parent_scope = run.scopes.get(_kwargs(exp)["parent_table"])
        if parent_scope is None or parent_scope.cached is None:
            return False
    return True


def _reference_results(
    suite: Suite,
    run: _Run,
    columns: set[str],
    scope: gated.Scope | None = None,
    kept: dict[str, dict[str, Any]] | None = None,
) -> list[ExpectationResult]:
    """All foreign-key checks of a suite, from one projection of the child's key columns: of its new loads
    and the orphans kept for the others when the state stands for them (:func:`_references_incremental`),
    else of every load. ``kept`` receives what the state keeps for the next gate: per expectation, the
    non-null child values counted ("total") and the orphans as [value, count] over every load gated."""
    exps = [e for e in suite.gx_suite.expectations if e.expectation_type == REFERENCE]
    fk_columns = sorted({e.configuration.kwargs["column"] for e in exps} & columns)
    if not exps:
        return []
    con = run.source.con
    projection = ", ".join(_quote(c) for c in fk_columns) or "1 as none"
    incremental = _references_incremental(suite, run, exps, scope)
    relation = (
        run.source.relation(suite.table, scope.new_loads)  # type: ignore[union-attr]
        if incremental
        else run.source.relation(suite.table)
    )
    con.execute(f"create or replace temp table {CHILD_TABLE} as select {projection} from {relation}")
    try:
        cached = scope.cached.references if incremental else None  # type: ignore[union-attr]
        return [_reference_result(suite, e, run, columns, cached, kept) for e in exps]
    finally:
        con.execute(f"drop table if exists {CHILD_TABLE}")


def _parent_keys(run: _Run, parent: str, column: str) -> str:
    """A temp table with the distinct keys of ``parent.column``, built once per gate run."""
    if (parent, column) not in run.key_sets:
        name = f"__ie_keys_{len(run.key_sets)}"
        run.source.con.execute(
            f"create temp table {name} as select distinct {_quote(column)} as k "
            f"from {run.source.relation(parent)} where {_quote(column)} is not null"
        )
        run.key_sets[(parent, column)] = name
    return run.key_sets[(parent, column)]


def _reference_result(
    suite: Suite,
    exp: Any,
    run: _Run,
    columns: set[str],
    cached: dict[str, dict[str, Any]] | None = None,
    kept: dict[str, dict[str, Any]] | None = None,
) -> ExpectationResult:
    kw = _kwargs(exp)
    col, parent, parent_col = kw["column"], kw["parent_table"], kw["parent_column"]
    mostly = kw.get("mostly")
    common = {
        "expectation": exp.expectation_type,
        "column": col,
        "engine": "runner",
        "severity": _severity(exp),
        "kwargs": kw,
        "mostly": mostly,
    }
    label = f"{exp.expectation_type}({col} -> {parent}.{parent_col})"
    problem = None
    state = run.state(parent)
    if state == "empty":
        msg = f"{suite.table}: {label} skipped: no data delivered for {parent} (reported, not blocking)"
        return ExpectationResult(
            success=True,
            observed_value="skipped",
            message=msg,
            details={"skipped": f"no data delivered for {parent}"},
            **{**common, "severity": "warning"},
        )
    if col not in columns:
        problem = f"{suite.table} has no column {col}"
    elif state != "ok":
        problem = f"{parent} is missing or failed its schema checks"
    else:
        try:
            keys = _parent_keys(run, parent, parent_col)
        except (duckdb.Error, ContractReadError, contract.ContractError) as exc:
            problem = f"cannot read {parent}.{parent_col} ({exc})"
    if problem:
        msg = f"{suite.table}: {label} could not be evaluated: {problem}"
        return ExpectationResult(success=False, message=msg, **common)
    con = run.source.con
    value = _quote(col)
    child = f"select {value} as v, 1 as n, true as is_new from {CHILD_TABLE} where {value} is not null"
    key = _gx_key(exp)
    before = cached.get(key) if cached is not None else None
    registered = None
    if before is not None and before["orphans"]:
        # the orphans of the loads gated before, in the child column's type: a late parent clears them
        (child_type,) = con.execute(
            "select data_type from duckdb_columns() "
            f"where table_name = {_literal(CHILD_TABLE)} and column_name = {_literal(col)}"
        ).fetchall()[0]
        registered = "__ie_kept_orphans"
        con.register(
            registered,
            pa.table(
                {
                    "v": pa.array([v for v, _ in before["orphans"]]),
                    "n": pa.array([int(n) for _, n in before["orphans"]], pa.int64()),
                }
            ),
        )
        child += f" union all select cast(v as {child_type}) as v, n, false as is_new from {registered}"
    try:
        base = f"from ({child}) as child left join {keys} as parent on child.v = parent.k"
        new_values, orphans = con.execute(
            "select count(*) filter (where is_new), coalesce(sum(n) filter (where parent.k is null), 0) "
            + base
        ).fetchall()[0]
        by_value = con.execute(
            f"select child.v, sum(n) as n {base} where parent.k is null group by 1 order by 2 desc, 1 "
            # every orphan when they are kept for the next gate (one more says there are too many)
            f"limit {REFERENCE_ORPHANS_KEPT + 1 if kept is not None else 20}"
        ).fetchall()
    finally:
        if registered is not None:
            con.unregister(registered)
    # the kept orphans stand for rows counted before: the total is theirs plus the new loads' values
    total = int(new_values) + (int(before["total"]) if before is not None else 0)
    orphans = int(orphans)
    top = [(v, int(n)) for v, n in by_value[:20]]
    if kept is not None:
        kept[key] = {
            "total": total,
            "orphans": (
                [[_jsonable(v), int(n)] for v, n in by_value]
                if len(by_value) <= REFERENCE_ORPHANS_KEPT
                else None
            ),
        }
    pct = 100.0 * orphans / total if total else 0.0
    tolerated = suite.tolerated_rows if mostly is not None else 0
    ok = orphans == 0 or orphans <= tolerated or (mostly is not None and (total - orphans) / total >= mostly)
    samples = [_jsonable(v) for v, _ in top[:SAMPLE_SIZE]]
    if orphans == 0:
        msg = ""
    elif ok:
        msg = (
            f"{suite.table}: {label}: {orphans:,} of {total:,} values have no parent ({pct:.2f}%), "
            f"within the threshold; e.g. {_samples(samples)}"
        )
    else:
        msg = (
            f"{suite.table}: {label} failed: {orphans:,} of {total:,} values have no parent ({pct:.2f}%); "
            f"e.g. {_samples(samples)}"
        )
    return ExpectationResult(
        success=ok,
        element_count=int(total),
        unexpected_count=int(orphans),
        unexpected_percent=round(pct, 4),
        observed_value=f"{pct:.2f}% unexpected",
        sample_values=samples,
        message=msg,
        details={"sample_value_counts": [{"value": _jsonable(v), "count": int(n)} for v, n in top]},
        **common,
    )


def _row_count_result(
    suite: Suite,
    exp: Any,
    source: _Source,
    reference: tuple[date | None, date | None],
    counts: dict[date, int] | None,
) -> ExpectationResult:
    kw = _kwargs(exp)
    common = {
        "expectation": exp.expectation_type,
        "column": None,
        "engine": "runner",
        "severity": _severity(exp),
        "kwargs": kw,
    }
    min_ratio, max_ratio = float(exp.min_ratio), float(exp.max_ratio)
    min_prev = int(exp.min_previous_rows)
    if counts is None:
        msg = f"{suite.table}: {exp.expectation_type} needs a {LOAD_DATE} column, and the table has none"
        return ExpectationResult(success=False, message=msg, **common)
    newest, previous = reference
    if source.kind == "marts":
        dates = sorted(counts)
        newest, previous = (dates[-1] if dates else None), (dates[-2] if len(dates) > 1 else None)
    n_new = counts.get(newest, 0) if newest else 0
    n_prev = counts.get(previous, 0) if previous else 0
    details = {
        "load_date": newest,
        "rows": n_new,
        "previous_load_date": previous,
        "previous_rows": n_prev,
    }
    ratio = n_new / n_prev if n_prev else None
    details["ratio"] = round(ratio, 4) if ratio is not None else None
    observed = f"{n_new:,} rows on {newest} vs {n_prev:,} on {previous}"
    name = f"{suite.table}: {exp.expectation_type}"
    if previous is None or n_prev == 0:
        ok, msg = True, ""
    elif n_prev < min_prev:
        ok = True
        msg = (
            f"{name}: {observed}; the previous load has fewer than {min_prev} rows, too few to judge"
            if n_new == 0
            else ""
        )
    elif n_new == 0:
        ok = False
        msg = (
            f"{name} failed: {observed}: the {newest} load of {suite.table} is missing or empty "
            f"(check {source.folder(suite.table) if isinstance(source, _RawSource) else suite.table})"
        )
    else:
        assert ratio is not None
        ok = min_ratio <= ratio <= max_ratio
        msg = "" if ok else f"{name} failed: {observed} (ratio {ratio:.2f}, allowed {min_ratio}-{max_ratio})"
    return ExpectationResult(
        success=ok, observed_value=observed, message=msg, details=_jsonable(details), **common
    )


def _row_count_between_result(suite: Suite, exp: Any, rows: int) -> ExpectationResult:
    kw = _kwargs(exp)
    low, high = kw.get("min_value"), kw.get("max_value")
    ok = (low is None or rows >= low) and (high is None or rows <= high)
    msg = (
        "" if ok else f"{suite.table}: {exp.expectation_type} failed: {rows:,} rows, expected {low} to {high}"
    )
    return ExpectationResult(
        expectation=exp.expectation_type,
        column=None,
        engine="runner",
        success=ok,
        severity=_severity(exp),
        kwargs=kw,
        observed_value=rows,
        message=msg,
    )


# --------------------------------------------------------------------------------------- one table
@dataclass
class _Run:
    """What every table of one gate run shares."""

    stage: Stage
    source: _Source
    batch_definition_for: Any  # callable: table -> GX batch definition
    chunk_rows: int
    units: dict[str, list[_SchemaUnit]]
    reference: tuple[date | None, date | None]
    problem: str | None = None
    key_sets: dict[tuple[str, str], str] = field(default_factory=dict)
    # raw gate with a gated-loads state: what to read per table, and the totals to remember if all passes
    scopes: dict[str, gated.Scope] = field(default_factory=dict)
    totals: dict[str, gated.TableTotals] = field(default_factory=dict)
    # raw gate: "sql" evaluates the row-level expectations it covers in DuckDB, "gx" leaves all to GX
    row_engine: RowEngine = "sql"

    def state(self, table: str) -> Literal["ok", "empty", "broken"]:
        """Whether a (parent) table can be read: ``empty`` when the landing zone has no files for it."""
        if table not in self.units:
            if isinstance(self.source, _RawSource) and table not in contract.tables():
                return "broken"
            self.units[table] = _units_or_problem(self.source, table, self.problem)
        units = self.units[table]
        if not units:
            return "empty"
        return "ok" if all(u.columns is not None for u in units) else "broken"


def _validate_table(suite: Suite, run: _Run, units: list[_SchemaUnit]) -> TableResult:
    if isinstance(run.source, _RawSource):
        return _validate_raw_table(suite, run, run.source, units)
    started = time.perf_counter()
    table = suite.table
    relation = run.source.relation(table)
    results = _schema_results(suite, table, units)
    errors = [r.message for r in results if r.blocking]
    unreadable = [u.error for u in units if u.columns is None and u.error]
    for err in unreadable:
        if not any(err in e for e in errors):
            errors.append(f"{table}: {err}")
    rows: int | None = None
    n_chunks = 0
    if not errors:
        try:
            columns = {c for u in units for c in (u.columns or {})}
            counts = _load_counts(run.source, suite.table, columns)
            if counts is None:
                rows = int(run.source.con.execute(f"select count(*) from {relation}").fetchall()[0][0])
            else:
                rows = sum(counts.values())
            n_chunks, gx_results, _ = _gx_results(suite, run, rows)
            results += gx_results
            results += _reference_results(suite, run, columns)
            results += _row_count_results(suite, run, rows, counts)
        except duckdb.Error as exc:
            errors.append(f"{table}: could not read the data ({type(exc).__name__}: {exc})")
    else:
        errors.append(f"{table}: schema checks failed, row-level checks skipped")
    success = not errors and not any(r.blocking for r in results)
    return TableResult(
        table=table,
        suite=suite.name,
        success=success,
        rows=rows,
        chunks=n_chunks,
        seconds=round(time.perf_counter() - started, 3),
        errors=errors,
        expectations=results,
    )


def _row_count_results(
    suite: Suite, run: _Run, rows: int, counts: dict[date, int] | None
) -> list[ExpectationResult]:
    results = []
    for exp in suite.gx_suite.expectations:
        if exp.expectation_type == "expect_table_row_count_to_be_within_ratio_of_previous_load":
            results.append(_row_count_result(suite, exp, run.source, run.reference, counts))
        elif exp.expectation_type == "expect_table_row_count_to_be_between":
            results.append(_row_count_between_result(suite, exp, rows))
    return results


def _validate_raw_table(suite: Suite, run: _Run, source: _RawSource, units: list[_SchemaUnit]) -> TableResult:
    """A landing-zone table: schema per file (from the contract), then the rows in their contract form."""
    started = time.perf_counter()
    table = suite.table
    if not units:  # no file at all: nothing to judge, and no reason to stop the run
        return TableResult(
            table=table,
            suite=suite.name,
            success=True,
            rows=0,
            chunks=0,
            seconds=round(time.perf_counter() - started, 3),
            errors=[],
            expectations=[],
            warnings=[source.no_data_message(table)],
        )
    results = _schema_results(suite, table, units)
    errors = [r.message for r in results if r.blocking]
    for err in (u.error for u in units if u.columns is None and u.error):
        if not any(err in e for e in errors):
            errors.append(f"{table}: {err}")
    rows: int | None = None
    rows_read: int | None = None
    scope: gated.Scope | None = None
    n_chunks = 0
    warnings: list[str] = []
    fill_rates: dict[str, dict[str, Any]] = {}
    if errors:
        errors.append(f"{table}: schema checks failed, row-level checks skipped")
    else:
        scope = run.scopes.get(table)
        cached = scope.cached if scope is not None else None
        loads = scope.new_loads if scope is not None else None
        materialized = False
        try:
            # the rows read are those of the new loads (all loads without a state); the whole table's
            # view is built only when a check needs it (a parent's keys, a reference check read whole)
            source.relation(table, loads)
            if run.row_engine == "sql":  # one read of the files for every check below
                materialized = source.materialize(table, loads)
            columns = source.view_columns(table)
            counts = _raw_load_counts(source, table, columns, cached, loads)
            rows = sum(counts.values())
            rows_read = rows if loads is None else sum(n for d, n in counts.items() if d in loads)
            stats = _column_stats(source, suite, counts, loads)
            if cached is not None:
                stats = _merged_stats(stats, cached)
            results += _castable_results(suite, source, stats, loads)
            results += _fill_rate_results(suite, stats)
            fill_rates, warnings = _fill_rates(suite, units, stats)
            n_chunks, gx_results, gx_totals = _gx_results(suite, run, rows_read, loads, cached)
            results += gx_results
            references: dict[str, dict[str, Any]] = {}
            results += _reference_results(suite, run, columns, scope, references)
            results += _row_count_results(suite, run, rows, counts)
            if scope is not None:
                run.totals[table] = _table_totals(scope, suite, stats, gx_totals, counts, references)
        except (duckdb.Error, ContractReadError) as exc:
            named = source.diagnose(table) if isinstance(exc, duckdb.Error) else []
            detail = "; ".join(named) if named else f"{type(exc).__name__}: {exc}"
            errors.append(f"{table}: could not read the data ({detail})")
        finally:
            if materialized:
                source.release(table, loads)
    success = not errors and not any(r.blocking for r in results)
    return TableResult(
        table=table,
        suite=suite.name,
        success=success,
        rows=rows,
        chunks=n_chunks,
        seconds=round(time.perf_counter() - started, 3),
        errors=errors,
        expectations=results,
        warnings=warnings,
        fill_rates=fill_rates,
        scope=scope.reason if scope is not None else "",
        rows_read=rows_read,
    )


@dataclass(frozen=True)
class _ColumnStats:
    """Per contract column of a raw table: rows, present and uncastable values, overall and by load."""

    newest: date | None
    rows: dict[str, int]  # "all" | "newest" | "earlier" -> rows
    present: dict[str, dict[str, int]]  # column -> scope -> present values
    uncastable: dict[str, int]  # column -> uncastable values (all loads)


def _present_sql(column: contract.Column | None, name: str) -> str:
    """On the contract view: the raw value was there (for text: not blank)."""
    if column is not None and column.family == "string":
        return f"nullif(trim({_quote(name)}), '') is not null"
    return f"({_quote(name)} is not null or {_quote(name + UNCASTABLE_SUFFIX)})"


def _column_stats(
    source: _RawSource, suite: Suite, counts: dict[date, int], loads: frozenset[date] | None = None
) -> _ColumnStats:
    """One scan of the contract view (of ``loads`` only, when given): present and uncastable values per
    column, the table's newest load vs earlier ones."""
    spec = suite.contract
    assert spec is not None
    newest = max(counts) if counts else None
    cols: list[tuple[str, contract.Column | None]] = [(c.name, c) for c in spec.columns]
    cols.append((LOADED_AT, None))
    items = ["count(*)"]
    for name, col in cols:
        items.append(f"count(*) filter (where {_present_sql(col, name)})")
        items.append(f"count(*) filter (where {_quote(name + UNCASTABLE_SUFFIX)})")
    scope = f"{LOAD_DATE} = {_literal(newest.isoformat())}::date" if newest else "false"
    sql = (
        f"select coalesce({scope}, false) as newest, {', '.join(items)} "
        f"from {source.relation(suite.table, loads)} group by 1"
    )
    rows = {"all": 0, "newest": 0, "earlier": 0}
    present: dict[str, dict[str, int]] = {name: {"all": 0, "newest": 0, "earlier": 0} for name, _ in cols}
    uncastable = {name: 0 for name, _ in cols}
    for record in source.con.execute(sql).fetchall():
        key = "newest" if record[0] else "earlier"
        rows[key] += int(record[1])
        rows["all"] += int(record[1])
        for i, (name, _) in enumerate(cols):
            n_present, n_bad = int(record[2 + 2 * i]), int(record[3 + 2 * i])
            present[name][key] += n_present
            present[name]["all"] += n_present
            uncastable[name] += n_bad
    return _ColumnStats(newest=newest, rows=rows, present=present, uncastable=uncastable)


ROWS_KEY = "__rows__"  # gated-loads totals: the row count beside the per-column counts


def _merged_stats(new: _ColumnStats, cached: gated.TableTotals) -> _ColumnStats:
    """The column stats of every load: the loads read now plus the totals of those gated before."""
    old_rows = cached.columns.get(ROWS_KEY, {}).get("n", 0)
    rows = {"all": new.rows["all"] + old_rows}
    present: dict[str, dict[str, int]] = {}
    uncastable: dict[str, int] = {}
    newest_is_old = new.newest is not None and new.newest.isoformat() == cached.newest
    newest_rows = cached.newest_columns.get(ROWS_KEY, {}).get("n", 0) if newest_is_old else new.rows["newest"]
    rows["newest"], rows["earlier"] = newest_rows, rows["all"] - newest_rows
    for col, scopes in new.present.items():
        old = cached.columns.get(col, {})
        total = scopes["all"] + old.get("present", 0)
        newest = cached.newest_columns.get(col, {}).get("present", 0) if newest_is_old else scopes["newest"]
        present[col] = {"all": total, "newest": newest, "earlier": total - newest}
        uncastable[col] = new.uncastable[col] + old.get("uncastable", 0)
    return _ColumnStats(newest=new.newest, rows=rows, present=present, uncastable=uncastable)


def _table_totals(
    scope: gated.Scope,
    suite: Suite,
    stats: _ColumnStats,
    gx_totals: dict[str, dict[str, int]],
    counts: dict[date, int],
    references: dict[str, dict[str, Any]],
) -> gated.TableTotals:
    """What the gated-loads state keeps of a table whose every load has now passed."""
    columns = {ROWS_KEY: {"n": stats.rows["all"]}}
    newest_columns = {ROWS_KEY: {"n": stats.rows["newest"]}}
    for col, scopes in stats.present.items():
        columns[col] = {"present": scopes["all"], "uncastable": stats.uncastable[col]}
        newest_columns[col] = {"present": scopes["newest"]}
    return gated.TableTotals(
        suite=suite_fingerprint(suite),
        loads=scope.loads,
        expectations=gx_totals,
        columns=columns,
        newest=stats.newest.isoformat() if stats.newest else None,
        newest_columns=newest_columns,
        load_rows={d.isoformat(): n for d, n in sorted(counts.items())},
        references=references,
    )


def suite_fingerprint(suite: Suite) -> str:
    """The suite file and the contract it is read with: totals kept under another one are not reused."""
    return gated.suite_hash(suite.path, repr(suite.contract))


# GX expectations whose counts add up over loads (per row, or unique per load_date); others need every load
_SUMMABLE = frozenset(
    {
        "expect_column_values_to_not_be_null",
        "expect_column_values_to_match_regex",
        "expect_column_values_to_be_in_set",
        "expect_column_values_to_be_between",
        "expect_column_pair_values_a_to_be_greater_than_b",
    }
)


def summable_per_load(suite: Suite) -> bool:
    """True when every row-level result of the suite is a sum over load folders, so a gate run may read
    only new loads and add the totals of the loads gated before."""
    for exp in suite.gx_suite.expectations:
        if suite.engine_of(exp) != "gx":
            continue
        kind, kw = exp.expectation_type, exp.configuration.kwargs
        if kind == "expect_compound_columns_to_be_unique" and LOAD_DATE in kw.get("column_list", []):
            continue
        if kind not in _SUMMABLE:
            return False
    return True


def _castable_results(
    suite: Suite, source: _RawSource, stats: _ColumnStats, loads: frozenset[date] | None = None
) -> list[ExpectationResult]:
    exps = [e for e in suite.gx_suite.expectations if e.expectation_type == CASTABLE]
    failing = [e.configuration.kwargs["column"] for e in exps]
    failing = [c for c in failing if stats.uncastable.get(c)]
    samples = source.uncastable_samples(suite.table, failing, loads=loads) if failing else {}
    results = []
    for exp in exps:
        kw = _kwargs(exp)
        col, family, mostly = kw["column"], kw["family"], kw.get("mostly")
        present = stats.present.get(col, {}).get("all", 0)
        bad = stats.uncastable.get(col, 0)
        pct = 100.0 * bad / present if present else 0.0
        tolerated = suite.tolerated_rows if mostly is not None else 0
        ok = bad == 0 or bad <= tolerated or (mostly is not None and (present - bad) / present >= mostly)
        top = samples.get(col, [])
        label = f"{CASTABLE}({col})"
        if bad == 0:
            msg = ""
        elif ok:
            msg = (
                f"{suite.table}: {label}: {bad:,} of {present:,} values cannot be read as {family} "
                f"({pct:.2f}%), within the threshold (mostly={mostly}, {suite.tolerated_rows} rows "
                f"tolerated); staging quarantines them; e.g. {_samples(top)}"
            )
        else:
            allowed = 100.0 * (1 - (mostly if mostly is not None else 1.0))
            msg = (
                f"{suite.table}: {label} failed: {bad:,} of {present:,} values cannot be read as {family} "
                f"({pct:.2f}%), at most {allowed:.2f}% allowed; e.g. {_samples(top)}"
            )
        results.append(
            ExpectationResult(
                expectation=CASTABLE,
                column=col,
                engine="runner",
                success=ok,
                severity=_severity(exp),
                kwargs=kw,
                mostly=mostly,
                element_count=present,
                unexpected_count=bad,
                unexpected_percent=round(pct, 4),
                observed_value=f"{pct:.2f}% uncastable",
                sample_values=top,
                message=msg,
            )
        )
    return results


def _fill_rate_results(suite: Suite, stats: _ColumnStats) -> list[ExpectationResult]:
    """Not-null expectations of optional columns: the fill rate against ``mostly``, as a warning only."""
    results = []
    for exp in suite.gx_suite.expectations:
        if not suite.is_fill_rate(exp):
            continue
        kw = _kwargs(exp)
        col, mostly = kw["column"], kw.get("mostly")
        rows, filled = stats.rows["all"], stats.present[col]["all"]
        fill = filled / rows if rows else None
        expected = 1.0 if mostly is None else float(mostly)
        ok = fill is None or fill >= expected
        msg = (
            ""
            if ok
            else f"{suite.table}: optional column {col} is filled in {fill:.1%} of {rows:,} rows, less than "
            f"the {expected:.0%} expected of it (reported, not blocking)"
        )
        results.append(
            ExpectationResult(
                expectation=NOT_NULL,
                column=col,
                engine="runner",
                success=ok,
                severity="warning",  # an optional column never blocks, whatever the suite says
                kwargs=kw,
                mostly=mostly,
                element_count=rows,
                unexpected_count=rows - filled,
                unexpected_percent=round(100.0 * (rows - filled) / rows, 4) if rows else 0.0,
                observed_value=None if fill is None else f"{fill:.2%} filled",
                message=msg,
                details={"fill_rate": True, "optional": True},
            )
        )
    return results


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _fill_rates(
    suite: Suite, units: list[_SchemaUnit], stats: _ColumnStats
) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """The ``fill_rates`` block of a raw table, and its warnings (absent, empty or emptying columns)."""
    spec = suite.contract
    assert spec is not None
    readable = [u for u in units if u.columns is not None]
    block: dict[str, dict[str, Any]] = {}
    warnings: list[str] = []
    for col in spec.columns:
        present = stats.present[col.name]
        rows = stats.rows
        without = [u.label for u in readable if _find_column(u.columns or {}, col.name) is None]
        newest_rate = _rate(present["newest"], rows["newest"])
        earlier_rate = _rate(present["earlier"], rows["earlier"])
        change = (
            round(newest_rate - earlier_rate, 4)
            if newest_rate is not None and earlier_rate is not None
            else None
        )
        warning = None
        reported = False  # an absent column is reported by its existence check already
        if not col.required:
            if len(without) == len(readable):
                warning = (
                    f"{suite.table}: optional column {col.name} is absent from every file: it reads as null"
                )
                reported = True
            elif rows["all"] and present["all"] == 0:
                warning = f"{suite.table}: optional column {col.name} is never filled ({rows['all']:,} rows)"
            elif (
                newest_rate is not None
                and earlier_rate is not None
                and earlier_rate >= FILL_DROP_MIN_EARLIER
                and rows["newest"] >= FILL_DROP_MIN_ROWS
                and newest_rate < FILL_DROP_RATIO * earlier_rate
            ):
                warning = (
                    f"{suite.table}: optional column {col.name} is filled in {newest_rate:.1%} of the newest "
                    f"load ({stats.newest}) against {earlier_rate:.1%} of the earlier loads"
                )
        if warning:
            warning += " (reported, not blocking)"
            if not reported:
                warnings.append(warning)
        block[col.name] = {
            "required": col.required,
            "rows": rows["all"],
            "filled": present["all"],
            "fill_rate": _rate(present["all"], rows["all"]),
            "newest_load_date": stats.newest,
            "newest_load_fill_rate": newest_rate,
            "earlier_loads_fill_rate": earlier_rate,
            "change": change,
            "uncastable": stats.uncastable[col.name],
            "files_without_column": len(without),
            "severity": "warning" if warning else "info",
            "warning": warning,
        }
    # schema drift: a column the contract does not know is ignored by staging, and said so here
    known = {c.name.lower() for c in spec.columns} | {LOADED_AT, LOAD_DATE}
    extra: dict[str, list[str]] = {}
    for unit in readable:
        for name in unit.columns or {}:
            if name.lower() not in known:
                extra.setdefault(name, []).append(unit.label)
    for name, files in sorted(extra.items()):
        warnings.append(
            f"{suite.table}: column {name!r} is not in the raw-data contract: ignored (schema drift; in "
            f"{len(files)} file(s), e.g. {files[0]}) (reported, not blocking)"
        )
    return block, warnings


def _load_counts(source: _Source, table: str, columns: set[str]) -> dict[date, int] | None:
    """Rows per load date (None if the table has no load_date column: a warehouse table without one)."""
    if source.kind == "marts" and LOAD_DATE not in columns:
        return None
    return _counts_by_load(source.con, source.relation(table))


def _counts_by_load(
    con: duckdb.DuckDBPyConnection, relation: str, into: dict[date, int] | None = None
) -> dict[date, int]:
    """Rows per load date of ``relation``, added to ``into`` when given."""
    counts = into if into is not None else {}
    for d, n in con.execute(f"select {LOAD_DATE}, count(*) from {relation} group by 1").fetchall():
        if d is not None:
            key = (
                d.date()
                if isinstance(d, datetime)
                else d
                if isinstance(d, date)
                else date.fromisoformat(str(d))
            )
            counts[key] = counts.get(key, 0) + int(n)
    return counts


def _raw_load_counts(
    source: _RawSource,
    table: str,
    columns: set[str],
    cached: gated.TableTotals | None,
    loads: frozenset[date] | None,
) -> dict[date, int]:
    """Rows per load of a landing table: the gated loads' counts from the state (their folders are unchanged,
    :meth:`gated.State.scopes` checked), the new loads counted; every load counted when the state cannot
    stand for them. Counting the whole zone opens every file again (80,000 at scale l)."""
    if cached is None or loads is None or cached.load_rows is None:
        return _load_counts(source, table, columns) or {}
    counts = {date.fromisoformat(d): n for d, n in cached.load_rows.items()}
    return _counts_by_load(source.con, source.relation(table, loads), counts) if loads else counts


def _gx_results(
    suite: Suite,
    run: _Run,
    total: int,
    loads: frozenset[date] | None = None,
    cached: gated.TableTotals | None = None,
) -> tuple[int, list[ExpectationResult], dict[str, dict[str, int]]]:
    """GX over the table's rows (of ``loads`` only, when given, the counts of the loads gated before added
    from ``cached``); also returns every expectation's counts for the gated-loads state. The raw gate's
    expectations the sql row engine covers are counted in DuckDB (:func:`_sql_row_counts`), the rest by GX."""
    all_exps = [e for e in suite.gx_suite.expectations if suite.engine_of(e) == "gx"]
    if not all_exps:
        return 0, [], {}
    checks, sql_columns = _sql_plan(suite, run, all_exps)
    by_sql = {id(c.exp) for c in checks}
    gx_exps = [e for e in all_exps if id(e) not in by_sql]
    # every expectation's aggregate, in the suite's order: the sql engine's and GX's
    aggregates: dict[int, _Aggregate] = {}
    for exp in all_exps:
        agg = aggregates[id(exp)] = _Aggregate(exp=exp, row_engine="sql" if id(exp) in by_sql else "gx")
        before = cached.expectations.get(_gx_key(exp)) if cached is not None else None
        if before is not None:
            agg.is_map = True
            agg.element_count = before["element"]
            agg.missing_count = before["missing"]
            agg.unexpected_count = before["unexpected"]
    nothing_new = loads is not None and not loads
    if checks and not nothing_new:
        _sql_row_counts(suite, run, checks, sql_columns, [aggregates[id(c.exp)] for c in checks], loads)
    n_chunks = 0
    if gx_exps:
        n_chunks = _gx_chunks(suite, run, gx_exps, aggregates, total, loads, nothing_new)
    totals = {
        _gx_key(a.exp): {
            "element": a.element_count,
            "missing": a.missing_count,
            "unexpected": a.unexpected_count,
        }
        for a in aggregates.values()
        if a.is_map and not a.exceptions
    }
    return n_chunks, [a.result(suite, suite.table) for a in aggregates.values()], totals


def _gx_chunks(
    suite: Suite,
    run: _Run,
    gx_exps: Sequence[Any],
    aggregates: dict[int, _Aggregate],
    total: int,
    loads: frozenset[date] | None,
    nothing_new: bool,
) -> int:
    """GX's pandas datasource over the rows, chunk by chunk, into ``aggregates``; returns the chunks read.

    The table-level expectations that look at column names only (:data:`CHUNK_INVARIANT_TYPES`, no PII)
    get one empty frame of every column; the row-level ones the rows of the columns they name."""
    invariant = [e for e in gx_exps if e.expectation_type in CHUNK_INVARIANT_TYPES]
    row_level = [e for e in gx_exps if e.expectation_type not in CHUNK_INVARIANT_TYPES]
    n_chunks = 0
    if invariant:
        every_column = f"select * from {_relation_of(run.source, suite.table, loads)} limit 0"
        n_chunks += _gx_pass(suite, run, invariant, aggregates, every_column, 0, nothing_new)
    if row_level:
        sql = _select_sql(suite, run.source, row_level, loads)
        n_chunks += _gx_pass(suite, run, row_level, aggregates, sql, total, nothing_new)
    return n_chunks


def _gx_pass(
    suite: Suite,
    run: _Run,
    gx_exps: Sequence[Any],
    aggregates: dict[int, _Aggregate],
    sql: str,
    total: int,
    nothing_new: bool,
) -> int:
    """One GX validation of ``gx_exps`` over the rows of ``sql``, chunk by chunk; returns the chunks read."""
    con = run.source.con
    # copies with ids of our own: GX returns results in its own order, the id maps them back
    chunk_suite = gx.ExpectationSuite(
        name=f"{suite.name}.chunk", expectations=[e.configuration.to_domain_obj() for e in gx_exps]
    )
    by_id: dict[str, _Aggregate] = {}
    for i, (copy, exp) in enumerate(zip(chunk_suite.expectations, gx_exps, strict=True)):
        copy.id = f"{suite.name}#{i}"
        by_id[copy.id] = aggregates[id(exp)]
    batch_definition = run.batch_definition_for(suite.table)
    n_chunks = 0
    chunks = [] if nothing_new else _chunks(con, sql, total, run.chunk_rows, _partition_columns(gx_exps))
    for df in chunks:
        n_chunks += 1
        validation = batch_definition.get_batch(batch_parameters={"dataframe": df}).validate(
            chunk_suite, result_format=RESULT_FORMAT
        )
        for evr in validation.results:
            by_id[evr.expectation_config.id].add(evr)
        log.debug("%s: chunk %d, %d rows", suite.table, n_chunks, len(df))
    return n_chunks


def _gx_key(exp: Any) -> str:
    return gated.expectation_key(exp.expectation_type, _kwargs(exp))


# -------------------------------------------------------------------------------------- sql engine
REGEX = "expect_column_values_to_match_regex"
IN_SET = "expect_column_values_to_be_in_set"
BETWEEN = "expect_column_values_to_be_between"
PAIR_GREATER = "expect_column_pair_values_a_to_be_greater_than_b"
COMPOUND_UNIQUE = "expect_compound_columns_to_be_unique"
UNIQUE = "expect_column_values_to_be_unique"
# the row-level GX expectations that the sql row engine evaluates as DuckDB aggregates
SQL_ROW_TYPES = frozenset({NOT_NULL, REGEX, IN_SET, BETWEEN, PAIR_GREATER, COMPOUND_UNIQUE, UNIQUE})
SQL_COLUMNS_TABLE = "__ie_columns"  # the columns the sql row engine reads, materialised once
SQL_ROWS_TABLE = "__ie_rows"  # those columns and every check's missing and unexpected flags
# distinct values a regex is matched against per batch, in pandas: bounded memory outside DuckDB (an id
# column of web.events at scale l holds ~45M distinct values, ~3 GB as Python strings at once)
REGEX_DISTINCT_BATCH_ROWS = 1_000_000
# Regexes of the suites that DuckDB can settle for most values without Python: each maps to a predicate over
# ``{v}`` (a VARCHAR) that, where true, implies Python's ``re.search(regex, v)`` matches, so GX's verdict on
# that value is "matched". The values it leaves undecided (false or null) still go to pandas, so a verdict is
# never DuckDB's own: the shortcut only spares Python the values it would match anyway (41M event ids at
# scale l: 44 s of the full raw gate). Each predicate admits plain ASCII only (RE2 and Python agree there,
# no whitespace, no newline for ``$``); tests/python/test_gate_engines.py checks every implication against
# ``re`` on hostile text and that every regex below is in a suite.
_REGEX_SURE_MATCHES: dict[str, str] = {
    # an id that is not a placeholder: a token of letters, digits, '-' and '_' is one unless it spells a
    # placeholder word (case-insensitive; ASCII only, so Python's Unicode case folding cannot differ), and
    # without a '.' it cannot be a float-formatted integer
    r"^(?!\s*(?i:nan|none|null|undefined|nat)?\s*$)(?!\s*[+-]?[0-9]+\.0+\s*$).+$": (
        "regexp_full_match({v}, '[A-Za-z0-9_-]+') "
        "and lower({v}) not in ('nan', 'none', 'null', 'undefined', 'nat')"
    ),
    # an e-mail address: the same shape, without the surrounding whitespace Python's \s would allow
    r"^\s*[^@\s]+@[^@\s]+\.[A-Za-z]{2,}\s*$": (
        "regexp_full_match({v}, '[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+[.][A-Za-z]{2,}')"
    ),
}
_NUMERIC_TYPES = frozenset({"DOUBLE", "FLOAT", "BIGINT", "INTEGER"})
_FLOAT_TYPES = frozenset({"DOUBLE", "FLOAT"})
# types whose pandas form (after DuckDB -> Arrow -> pandas) compares and hashes as the DuckDB value does
_KEY_TYPES = frozenset({"VARCHAR", "BIGINT", "INTEGER", "BOOLEAN", "DATE", "TIMESTAMP"})
_NOT_NULL_TYPES = _KEY_TYPES | _FLOAT_TYPES


@dataclass(frozen=True)
class _SqlCheck:
    """One expectation as DuckDB predicates over the row-engine table, mirroring GX's pandas metrics.

    ``missing``: the rows GX leaves out (its null filter, ``ignore_row_if``); ``unexpected``: the rows of the
    rest that fail. ``values``: what GX's ``partial_unexpected_list`` shows of a row (named by ``names`` for
    pairs and compound keys); ``as_float``: integer columns that pandas holds as float64 (they have nulls).
    """

    exp: Any
    missing: str
    unexpected: str
    values: list[str]
    names: list[str] | None
    int_columns: list[str]  # BIGINT columns among ``values``: float in pandas when they hold a null
    regex: str | None = None  # a regex check: ``unexpected`` is filled in once its unmatched values are known
    float_values: list[str] = field(default_factory=list)  # DOUBLE columns among ``values``
    null_sample: Any = None  # how GX shows a null of a one-column check (pandas' NaT for a timestamp)


def _is_decimal(data_type: str) -> bool:
    """A DuckDB DECIMAL column (the marts' amounts, ``DECIMAL(18,2)``)."""
    return data_type.upper().startswith(("DECIMAL", "NUMERIC"))


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _number_sql(value: int | float) -> str:
    return str(value) if isinstance(value, int) else f"{float(value)!r}::double"


def _whole_number_sql(value: int | float) -> str:
    """A whole number (``0.0`` as GX stores it) as an integer literal."""
    return str(int(value))


def _sql_check(exp: Any, types: dict[str, str], column_sql: Any) -> _SqlCheck | None:
    """:func:`_sql_check_of`, knowing which sample values are floats (0.0 and -0.0 are two values to GX)."""
    check = _sql_check_of(exp, types, column_sql)
    if check is None:
        return None
    floats = [column_sql(c) for c in _columns_of(exp.configuration.kwargs) if types[c] in _FLOAT_TYPES]
    return replace(check, float_values=floats)


def _sql_check_of(exp: Any, types: dict[str, str], column_sql: Any) -> _SqlCheck | None:
    """The check of ``exp`` in DuckDB, or None where only GX's own evaluation is exact (another type, a
    ``row_condition``, a column type or argument whose pandas semantics DuckDB would not reproduce)."""
    kind, kw = exp.expectation_type, exp.configuration.kwargs
    if kind not in SQL_ROW_TYPES or kw.get("row_condition") or kw.get("condition_parser"):
        return None
    cols = _columns_of(kw)
    if not cols or any(c not in types for c in cols):
        return None

    def miss(c: str) -> str:  # pandas isnull: null, and NaN for floats
        q = column_sql(c)
        return f"({q} is null or isnan({q}))" if types[c] in _FLOAT_TYPES else f"{q} is null"

    def ints(names: Sequence[str]) -> list[str]:
        return [c for c in names if types[c] in ("BIGINT", "INTEGER")]

    if kind in (NOT_NULL, REGEX, IN_SET, BETWEEN, UNIQUE):
        c = cols[0]
        q, t = column_sql(c), types[c]
        if kind == UNIQUE:
            # pandas duplicated(keep=False) over the non-null values: every copy of a repeated value
            if t not in _KEY_TYPES:
                return None
            return _SqlCheck(exp, miss(c), f"count(*) over (partition by {q}) > 1", [q], None, ints([c]))
        if kind == NOT_NULL:
            if t not in _NOT_NULL_TYPES:
                return None
            null = "NaT" if t == "TIMESTAMP" else None  # a datetime64 column's null is NaT in pandas
            return _SqlCheck(exp, "false", miss(c), [q], None, ints([c]), null_sample=null)
        if kind == REGEX:
            regex = kw.get("regex")
            if t != "VARCHAR" or not isinstance(regex, str):
                return None
            try:
                re.compile(regex)
            except re.error:
                return None  # GX reports the exception
            return _SqlCheck(exp, miss(c), "", [q], None, [], regex=regex)
        if kind == IN_SET:
            value_set = kw.get("value_set")
            if value_set is None or not isinstance(value_set, list | tuple | set | frozenset):
                return None
            values = list(value_set)
            if t == "VARCHAR" and all(isinstance(v, str) for v in values):
                items = [_literal(v) for v in values]
            elif t in _NUMERIC_TYPES and all(_is_number(v) for v in values):
                items = [_number_sql(v) for v in values]
            else:
                return None
            inside = f"{q} in ({', '.join(items)})" if items else "false"
            return _SqlCheck(exp, miss(c), f"not ({inside})", [q], None, ints([c]))
        low, high = kw.get("min_value"), kw.get("max_value")
        if (t not in _NUMERIC_TYPES and not _is_decimal(t)) or (low is None and high is None):
            return None
        if any(v is not None and not _is_number(v) for v in (low, high)):
            return None
        bound = _number_sql
        if _is_decimal(t):
            # pandas compares a Decimal with a float bound exactly (Decimal('0.10') < 0.1), DuckDB in
            # double: only whole-number bounds (the marts' amounts >= 0; GX stores them as floats) compare
            # alike, written as integers so DuckDB compares them as decimals
            if any(v is not None and not (float(v).is_integer() and abs(v) < 2**53) for v in (low, high)):
                return None
            bound = _whole_number_sql
        if low is not None and high is not None and low > high:
            return None  # GX raises: its exception is the result
        conds = []
        if low is not None:
            conds.append(f"{bound(low)} {'<' if kw.get('strict_min') else '<='} {q}")
        if high is not None:
            conds.append(f"{q} {'<' if kw.get('strict_max') else '<='} {bound(high)}")
        return _SqlCheck(exp, miss(c), f"not ({' and '.join(conds)})", [q], None, ints([c]))
    if kind == PAIR_GREATER:
        a, b = cols
        ta, tb = types[a], types[b]
        if not ((ta in _NUMERIC_TYPES and tb in _NUMERIC_TYPES) or (ta == tb == "TIMESTAMP")):
            return None
        ignore = kw.get("ignore_row_if") or "both_values_are_missing"
        missing = {
            "both_values_are_missing": f"({miss(a)} and {miss(b)})",
            "either_value_is_missing": f"({miss(a)} or {miss(b)})",
            "neither": "false",
        }.get(ignore)
        if missing is None:
            return None
        op = ">=" if kw.get("or_equal") else ">"
        qa, qb = column_sql(a), column_sql(b)
        # pandas compares a missing value as False: such a row, when kept, is unexpected
        unexpected = f"({miss(a)} or {miss(b)} or not ({qa} {op} {qb}))"
        return _SqlCheck(exp, missing, unexpected, [qa, qb], [a, b], ints([a, b]))
    if kind == COMPOUND_UNIQUE:
        if any(types[c] not in _KEY_TYPES for c in cols) or len(set(cols)) != len(cols):
            return None
        ignore = kw.get("ignore_row_if") or "all_values_are_missing"
        nulls = [f"{column_sql(c)} is null" for c in cols]
        missing = {
            "all_values_are_missing": "(" + " and ".join(nulls) + ")",
            "any_value_is_missing": "(" + " or ".join(nulls) + ")",
            "never": "false",
        }.get(ignore)
        if missing is None:
            return None
        # the rows kept never share a key with the rows left out (those differ in which parts are null), so
        # counting copies over every row is counting them over the kept ones; GX (pandas duplicated with
        # keep=False) flags every copy of a duplicated key, nulls equal to nulls
        keys = ", ".join(column_sql(c) for c in cols)
        unexpected = f"count(*) over (partition by {keys}) > 1"
        return _SqlCheck(exp, missing, unexpected, [column_sql(c) for c in cols], list(cols), ints(cols))
    return None


def _unmatched(values: pa.Array, pattern: str) -> pa.Array:
    """The values ``pattern`` does not match, decided exactly as GX's pandas metric decides it: the values
    as a pandas string Series, ``astype(str).str.contains(pattern)``; pandas picks RE2 or Python's ``re`` by
    its own rules (lookarounds, ``\\s``, ``$`` before a newline, ``\\w`` on non-ASCII text: ``re``)."""
    series = values.to_pandas()
    found = series.astype(str).str.contains(pattern).to_numpy(dtype=bool, na_value=False)
    return values.filter(pa.array(~found))


def _sql_plan(suite: Suite, run: _Run, exps: Sequence[Any]) -> tuple[list[_SqlCheck], dict[str, str]]:
    """The expectations the sql row engine evaluates, and the columns it reads (name -> SQL)."""
    source = run.source
    if run.row_engine != "sql":
        return [], {}
    if isinstance(source, _WarehouseSource):
        # a mart: the table's own column types (DECIMAL, HUGEINT, TIME ZONE and the like stay GX's)
        types = {c: t.upper() for c, t in source.columns(suite.table).items()}
    else:
        spec = suite.contract
        assert spec is not None
        # the contract view's types: every column is cast to its family's type (contract.cast_sql)
        types = {c.name: contract.SQL_TYPES[c.family] for c in spec.columns}
        types |= {LOADED_AT: "TIMESTAMP", LOAD_DATE: "DATE"}
        types |= {c + UNCASTABLE_SUFFIX: "BOOLEAN" for c in [*spec.column_names, LOADED_AT]}
        types |= {c + PARSED_SUFFIX: "TIMESTAMP" for c in suite.parsed_timestamps}

    def column_sql(c: str) -> str:
        return _quote(f"c:{c}")

    checks = [check for check in (_sql_check(exp, types, column_sql) for exp in exps) if check is not None]
    columns = {
        column_sql(c): _source_column(suite, source, c)
        for check in checks
        for c in _columns_of(check.exp.configuration.kwargs)
    }
    return checks, columns


def _sql_row_counts(
    suite: Suite,
    run: _Run,
    checks: Sequence[_SqlCheck],
    columns: dict[str, str],
    aggregates: Sequence[_Aggregate],
    loads: frozenset[date] | None = None,
) -> None:
    """Evaluate ``checks`` in DuckDB over the table (of ``loads`` only, when given) and add their element,
    missing and unexpected counts and their most frequent unexpected values (up to 20, exact counts) to
    ``aggregates``: one scan materialises the columns read and every row's verdicts, aggregates and
    group-bys over that small table give the rest."""
    source = run.source
    con = source.con
    relation = _relation_of(source, suite.table, loads)
    projected = ", ".join(f"{expr} as {alias}" for alias, expr in columns.items()) or "1 as __ie_none"
    names = [*columns] or ["__ie_none"]
    # a DuckDB temp table, not Arrow in Python: DuckDB's buffer manager bounds its memory (it spills)
    con.execute(f"create or replace temp table {SQL_COLUMNS_TABLE} as select {projected} from {relation}")
    registered: list[str] = []
    try:
        checks = [
            _with_unmatched(con, check, registered) if check.regex is not None else check for check in checks
        ]
        missing = [f"coalesce({c.missing}, false) as __m{i}" for i, c in enumerate(checks)]
        unexpected = [
            f"(not __m{i} and coalesce({c.unexpected}, false)) as __u{i}" for i, c in enumerate(checks)
        ]
        con.execute(
            f"create or replace temp table {SQL_ROWS_TABLE} as "
            f"select {', '.join([*names, *(f'__m{i}' for i in range(len(checks))), *unexpected])} from ("
            f"select {', '.join([*names, *missing])} from {SQL_COLUMNS_TABLE})"
        )
    finally:
        con.execute(f"drop table if exists {SQL_COLUMNS_TABLE}")
        for name in registered:
            con.unregister(name)
    try:
        int_columns = sorted({q for check in checks for q in _int_sample_columns(check)})
        sums = ["count(*)"]
        for i in range(len(checks)):
            sums += [f"count(*) filter (where __m{i})", f"count(*) filter (where __u{i})"]
        sums += [f"count(*) filter (where {q} is null)" for q in int_columns]
        row = con.execute(f"select {', '.join(sums)} from {SQL_ROWS_TABLE}").fetchall()[0]
        total = int(row[0])
        with_nulls = {q for q, n in zip(int_columns, row[1 + 2 * len(checks) :], strict=True) if n}
        for i, (check, agg) in enumerate(zip(checks, aggregates, strict=True)):
            agg.is_map = True
            agg.element_count += total
            agg.missing_count += int(row[1 + 2 * i])
            unexpected = int(row[2 + 2 * i])
            agg.unexpected_count += unexpected
            if unexpected:
                _sql_samples(con, check, i, agg, with_nulls)
    finally:
        con.execute(f"drop table if exists {SQL_ROWS_TABLE}")


def _with_unmatched(con: duckdb.DuckDBPyConnection, check: _SqlCheck, registered: list[str]) -> _SqlCheck:
    """A regex check whose unexpected rows are those holding a value the regex does not match: every distinct
    value is matched once (in pandas, as GX matches it; a value :data:`_REGEX_SURE_MATCHES` settles as
    matched is not), the unmatched ones join back in DuckDB. The
    distinct values stream from DuckDB in batches of ``REGEX_DISTINCT_BATCH_ROWS`` (a value's verdict does
    not depend on the others), so only one batch is held in Python at a time."""
    assert check.regex is not None
    column = check.values[0]
    undecided = f"{column} is not null"
    sure = _REGEX_SURE_MATCHES.get(check.regex)
    if sure is not None:
        undecided += f" and not coalesce({sure.replace('{v}', column)}, false)"
    reader = con.execute(
        f"select distinct {column} as v from {SQL_COLUMNS_TABLE} where {undecided}"
    ).fetch_record_batch(REGEX_DISTINCT_BATCH_ROWS)
    unmatched = [_unmatched(batch.column(0), check.regex) for batch in reader if batch.num_rows]
    values = pa.concat_arrays(unmatched) if unmatched else pa.array([], type=reader.schema.field(0).type)
    name = f"__ie_unmatched_{len(registered)}"
    con.register(name, pa.table({"v": values}))
    registered.append(name)
    return replace(check, unexpected=f"{column} in (select v from {name})")


def _int_sample_columns(check: _SqlCheck) -> list[str]:
    kw = check.exp.configuration.kwargs
    return [q for c, q in zip(_columns_of(kw), check.values, strict=False) if c in check.int_columns]


def _sql_samples(
    con: duckdb.DuckDBPyConnection, check: _SqlCheck, i: int, agg: _Aggregate, with_nulls: set[str]
) -> None:
    """The 20 most frequent unexpected values (rows of a pair, keys of a compound) with their counts, in the
    JSON form GX's ``partial_unexpected_list`` takes in the results."""
    aliases = [f"__v{j}" for j in range(len(check.values))]
    values = ", ".join(f"{v} as {a}" for v, a in zip(check.values, aliases, strict=True))
    order = ", ".join(f"cast({a} as varchar) nulls first" for a in aliases)
    # DuckDB groups -0.0 with 0.0, pandas keeps them apart: floats are grouped by their text too
    keys = [*aliases, *(f"cast({v} as varchar)" for v in check.values if v in check.float_values)]
    rows = con.execute(
        f"select {values}, count(*) as n from {SQL_ROWS_TABLE} where __u{i} "
        f"group by {', '.join(keys)} order by n desc, {order} limit 20"
    ).fetchall()
    floats = [v in with_nulls for v in check.values]
    for record in rows:
        parts = [float(x) if f and x is not None else x for x, f in zip(record[:-1], floats, strict=True)]
        if check.names:
            value = dict(zip(check.names, parts, strict=True))
        else:
            value = check.null_sample if parts[0] is None else parts[0]
        value = _jsonable(value)
        key = json.dumps(value, sort_keys=True, default=str)
        agg.counts[key] += int(record[-1])
        agg.values[key] = value


# -------------------------------------------------------------------------------- GX context, docs
def _gx_context(root: Path) -> Any:
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    context = gx.get_context(mode="file", project_root_dir=str(root))
    context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    context.enable_analytics(False)
    return context


def _evr(result: ExpectationResult, exp: Any) -> ExpectationValidationResult:
    if result.unexpected_count is not None:
        res: dict[str, Any] = {
            "element_count": result.element_count,
            "missing_count": result.details.get("missing_count", 0),
            "unexpected_count": result.unexpected_count,
            "unexpected_percent": result.unexpected_percent,
            "partial_unexpected_list": result.sample_values,
        }
    else:
        observed = result.observed_value
        if observed is None and not result.success:
            observed = result.message  # e.g. "could not be evaluated: ..."
        res = {"observed_value": observed}
    return ExpectationValidationResult(
        success=result.success,
        expectation_config=exp.configuration,
        result=_jsonable(res),
        exception_info={"raised_exception": False, "exception_traceback": None, "exception_message": None},
    )


def _store_for_docs(context: Any, suite: Suite, table_result: TableResult, run_id: RunIdentifier) -> None:
    by_key: dict[tuple[str, str | None], list[ExpectationResult]] = {}
    for r in table_result.expectations:
        by_key.setdefault((r.expectation, r.column), []).append(r)
    evrs = []
    for exp in suite.gx_suite.expectations:
        kw = _kwargs(exp)
        key = (exp.expectation_type, _column_label(kw))
        matches = [r for r in by_key.get(key, []) if r.kwargs == kw]
        if matches:
            evrs.append(_evr(matches[0], exp))
    n_ok = sum(1 for e in evrs if e.success)
    validation = ExpectationSuiteValidationResult(
        success=table_result.success,
        results=evrs,
        suite_name=suite.name,
        statistics={
            "evaluated_expectations": len(evrs),
            "successful_expectations": n_ok,
            "unsuccessful_expectations": len(evrs) - n_ok,
            "success_percent": 100.0 * n_ok / len(evrs) if evrs else None,
        },
        meta={
            "great_expectations_version": gx.__version__,
            "run_id": run_id,
            "active_batch_definition": {
                "datasource_name": suite.stage,
                "data_connector_name": "insight_engine",
                "data_asset_name": suite.table,
                "batch_identifiers": {},
            },
            "batch_kwargs": {"data_asset_name": suite.table},
            "batch_markers": {"rows": table_result.rows, "chunks": table_result.chunks},
            "batch_spec": {
                "table": suite.table,
                "errors": table_result.errors,
                "warnings": table_result.warnings,
            },
        },
    )
    context.suites.add_or_update(suite.gx_suite)
    key = ValidationResultIdentifier(
        expectation_suite_identifier=ExpectationSuiteIdentifier(name=suite.name),
        run_id=run_id,
        batch_identifier=suite.table,
    )
    context.validation_results_store.store_validation_results(validation, key)


def _build_docs(context: Any, docs_dir: Path) -> Path:
    if docs_dir.exists():
        shutil.rmtree(docs_dir)
    context.update_data_docs_site(
        "local_site",
        {
            "class_name": "SiteBuilder",
            "show_how_to_buttons": False,
            "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(docs_dir)},
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        },
    )
    context.build_data_docs()
    return docs_dir / "index.html"


# ------------------------------------------------------------------------------------- entry point
def validate(
    stage: Stage,
    *,
    raw_root: Path,
    warehouse: Path,
    out_dir: Path,
    suites_dir: Path | None = None,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    data_docs: bool = True,
    gated_loads: Path | None = None,
    regate_all: bool = False,
    landing: dict[str, list] | None = None,
    row_engine: RowEngine = "sql",
) -> GateResult:
    """Run the ``raw`` gate (landing zone under ``raw_root``) or the ``marts`` gate (DuckDB ``warehouse``).

    Writes ``<out_dir>/<stage>_results.json`` and GX Data Docs (``<out_dir>/<stage>_docs/index.html``) and
    returns the :class:`GateResult`; a failed gate is a result with ``success=False`` and ``failures`` naming
    table, expectation and sample values, not an exception.

    Raw gate with ``gated_loads`` (a state file, :mod:`insight_engine.gated`): the row-level checks read only
    the load folders not validated before and add the totals kept for the others (``regate_all``: read
    every load, as ``--full-refresh`` does; ``landing``: the zone's fingerprints, if the caller has them,
    see :func:`insight_engine.ledger.compare`); the state is rewritten when the whole gate passes.

    ``row_engine``: ``"sql"`` evaluates the row-level expectations it covers as DuckDB aggregates with GX's
    semantics (:data:`SQL_ROW_TYPES`), ``"gx"`` runs every one in GX's pandas datasource (the reference the
    sql engine is tested against).
    """
    if stage not in STAGES:
        raise ValueError(f"unknown stage {stage!r}: choose one of {', '.join(STAGES)}")
    if row_engine not in ROW_ENGINES:
        raise ValueError(f"unknown row engine {row_engine!r}: choose one of {', '.join(ROW_ENGINES)}")
    started = time.perf_counter()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    suites, tables = load_suites(stage, suites_dir)
    if not suites:
        log.warning("%s gate: no suites in %s", stage, (suites_dir or DEFAULT_SUITES_DIR) / stage)
    context = _gx_context(out_dir / f"gx_{stage}")
    datasource = context.data_sources.add_pandas(f"insight_engine_{stage}")
    definitions: dict[str, Any] = {}

    def batch_definition_for(table: str) -> Any:
        if table not in definitions:
            asset = datasource.add_dataframe_asset(name=table)
            definitions[table] = asset.add_batch_definition_whole_dataframe(f"{table} chunk")
        return definitions[table]

    con, source, problem = _open_source(stage, Path(raw_root), Path(warehouse))
    state = gated.State.read(gated_loads) if gated_loads is not None and stage == "raw" else None
    try:
        if state is not None and not problem and isinstance(source, _RawSource):
            # the zone's fingerprints first: a file whose hash the state knows keeps its schema unread
            # (--full-refresh reads every file's schema again)
            landing = landing if landing is not None else state.fingerprints(Path(raw_root))
            source.remember_schemas({} if regate_all else state.schemas, landing)
        units = {s.table: _units_or_problem(source, s.table, problem) for s in suites}
        if isinstance(source, _RawSource) and suites and not any(units.values()):
            # a table without files is news, a landing zone without any is a failed delivery
            problem = (
                f"the landing zone {source.root} holds no Parquet or CSV file for any table (expected "
                "<system>/<table>/load_date=YYYY-MM-DD/*.parquet, *.csv or *.csv.gz)"
            )
            units = {s.table: _units_or_problem(source, s.table, problem) for s in suites}
        run = _Run(
            stage=stage,
            source=source,
            batch_definition_for=batch_definition_for,
            chunk_rows=chunk_rows,
            units=units,
            reference=_reference_dates(source),
            problem=problem,
            row_engine=row_engine,
        )
        if isinstance(source, _RawSource):
            log.info("%s gate: newest load %s, previous %s", stage, *run.reference)
        if state is not None and not problem:
            run.scopes = state.scopes(
                Path(raw_root),
                {s.table: suite_fingerprint(s) for s in suites if s.contract is not None},
                regate_all=regate_all,
                exact={s.table: summable_per_load(s) for s in suites},
                landing=landing,
            )
            whole = sum(1 for sc in run.scopes.values() if sc.cached is None)
            log.info(
                "%s gate: %d table(s) read only their new loads, %d read whole (%s)",
                stage,
                len(run.scopes) - whole,
                whole,
                gated_loads,
            )
        for suite in suites:
            try:
                result = _validate_table(suite, run, units[suite.table])
            except Exception as exc:  # a gate reports, it does not crash: name the table and the error
                log.debug("%s gate: %s crashed", stage, suite.table, exc_info=True)
                msg = f"{suite.table}: validation failed with {type(exc).__name__}: {exc}"
                result = TableResult(suite.table, suite.name, False, None, 0, 0.0, [msg], [])
            tables.append(result)
            _log_table(stage, result)
            failpoints.hit(f"{stage}_gate.table_validated")  # a crash test's kill point
    finally:
        con.close()

    run_id = RunIdentifier(run_name=f"{stage} gate", run_time=datetime.now(UTC))
    docs_path: Path | None = None
    if data_docs:
        by_name = {s.name: s for s in suites}
        try:
            for t in tables:
                if t.suite in by_name:
                    _store_for_docs(context, by_name[t.suite], t, run_id)
            docs_path = _build_docs(context, out_dir / f"{stage}_docs")
        except Exception as exc:  # the results JSON is the contract; docs are a view of it
            log.error("%s gate: building the GX Data Docs failed (%s: %s)", stage, type(exc).__name__, exc)
    result = GateResult(
        stage=stage,
        success=all(t.success for t in tables),
        tables=tables,
        seconds=round(time.perf_counter() - started, 3),
        results_path=out_dir / f"{stage}_results.json",
        docs_path=docs_path,
    )
    result.results_path.write_text(json.dumps(result.to_dict(), indent=2, ensure_ascii=False) + "\n")
    if state is not None and result.success and run.scopes:
        # only a gate that passed: its loads count as validated, its files' schemas as read
        state.write(run.totals, source.schemas_read() if isinstance(source, _RawSource) else None)
    level = logging.INFO if result.success else logging.ERROR
    log.log(
        level,
        "%s gate %s: %d tables, %d failures, %.1fs; results %s; docs %s",
        stage,
        "passed" if result.success else "FAILED",
        len(tables),
        len(result.failures),
        result.seconds,
        result.results_path,
        docs_path,
    )
    return result


def read_landing_table(raw_root: Path, table: str) -> pa.Table:
    """A landing-zone table as the raw gate sees it: Parquet and CSV files read per format, every contract
    column cast as staging casts it (``<col>``, ``<col>__uncastable``), ``_loaded_at`` as naive UTC, and
    ``load_date``. For debugging an export and for tests; a broken file raises :class:`ContractReadError`.
    """
    con = _configure(duckdb.connect())
    try:
        source = _RawSource(con, Path(raw_root))
        return con.execute(f"select * from {source.relation(table)}").to_arrow_table()
    finally:
        con.close()


def _configure(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    con.execute("set TimeZone = 'UTC'")
    con.execute("set enable_progress_bar = false")
    # the same knob and default as the dbt profile's: the gate spills past it instead of growing
    return duck.configure(con)


def _open_source(
    stage: Stage, raw_root: Path, warehouse: Path
) -> tuple[duckdb.DuckDBPyConnection, _Source, str | None]:
    """A DuckDB connection and the source it reads; ``problem`` says why nothing can be read, if so."""
    if stage == "raw":
        con = _configure(duckdb.connect())
        problem = None if raw_root.is_dir() else f"landing zone {raw_root} does not exist"
        return con, _RawSource(con, raw_root), problem
    if not warehouse.is_file():
        con = duckdb.connect()
        return (
            con,
            _WarehouseSource(con, warehouse),
            f"warehouse {warehouse} does not exist (run the build first)",
        )
    try:
        con = _configure(duckdb.connect(str(warehouse), read_only=True))
    except duckdb.Error as exc:
        con = duckdb.connect()
        return con, _WarehouseSource(con, warehouse), f"warehouse {warehouse} cannot be opened ({exc})"
    return con, _WarehouseSource(con, warehouse), None


def _units_or_problem(source: _Source, table: str, problem: str | None) -> list[_SchemaUnit]:
    """The schema units of a table; for the landing zone, [] means no data was delivered."""
    if problem:
        return [_SchemaUnit(table, None, problem)]
    try:
        return source.schema_units(table)
    except (duckdb.Error, OSError) as exc:
        return [_SchemaUnit(table, None, f"cannot inspect {table}: {exc}")]


def _reference_dates(source: _Source) -> tuple[date | None, date | None]:
    """The newest load date of the whole landing zone (every system and table) and the load date before it."""
    if not isinstance(source, _RawSource) or not source.root.is_dir():
        return None, None
    dates: set[date] = set()
    for system in source.root.iterdir():
        if system.is_dir() and not system.name.startswith((".", "_")):
            for table in system.iterdir():
                if table.is_dir():
                    dates |= source.load_dates(f"{system.name}.{table.name}")
    ordered = sorted(dates)
    return (ordered[-1] if ordered else None), (ordered[-2] if len(ordered) > 1 else None)


def _log_table(stage: Stage, t: TableResult) -> None:
    rows = f"{t.rows:,} rows" if t.rows is not None else "not read"
    if t.success:
        log.info("%s gate: %-24s ok      %s, %d chunk(s), %.1fs", stage, t.table, rows, t.chunks, t.seconds)
    else:
        log.error("%s gate: %-24s FAILED  %s, %.1fs", stage, t.table, rows, t.seconds)
        for msg in t.failures:
            log.error("  %s", msg)
    for r in t.reported:
        if r.message:
            log.warning("  %s", r.message)
    for msg in t.warnings:
        log.warning("  %s", msg)
