"""The raw-data contract, read from the one place it is stated: the sources' YAML.

``models/staging/<system>/_<system>__sources.yml`` lists every landing table with its columns, their
contract ``data_type`` (``string``, ``bigint``, ``double``, ``boolean``, ``timestamp``, ``date``),
``meta.required`` (a missing required column stops the run) and ``meta.pii``, and per source or table
``meta.source_timezone`` (the IANA zone naive timestamps are written in; default UTC).

dbt's ``read_source()`` macro reads the same YAML through dbt's graph; the raw gate
(:mod:`insight_engine.validate`) and the generator (:mod:`insight_engine.generator`) read it here. Nothing
else keeps a copy of a column list or a column type.

The environment variable ``SOURCE_TIMEZONES`` overrides the declared zones without editing the YAML
(``commerce=America/Sao_Paulo,crm.cases=Europe/Istanbul``: a system or ``system.table``, comma-separated);
``read_source()`` honours the same variable, so the gate and the build always agree.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

PROJECT_DIR = Path(__file__).resolve().parents[1]
SOURCES_GLOB = "models/staging/*/_*__sources.yml"
LOADED_AT = "_loaded_at"
LOAD_DATE = "load_date"
TIMEZONE_ENV = "SOURCE_TIMEZONES"
DEFAULT_TIMEZONE = "UTC"

Family = Literal["string", "integer", "number", "boolean", "timestamp", "date"]

_FAMILIES: dict[str, Family] = {
    "string": "string",
    "varchar": "string",
    "text": "string",
    "bigint": "integer",
    "integer": "integer",
    "int": "integer",
    "double": "number",
    "float": "number",
    "boolean": "boolean",
    "timestamp": "timestamp",
    "date": "date",
}


class ContractError(ValueError):
    """The contract YAML (or a time-zone override) is malformed."""


@dataclass(frozen=True)
class Column:
    name: str
    data_type: str
    required: bool
    pii: bool
    description: str

    @property
    def family(self) -> Family:
        base = self.data_type.lower().split("(")[0].strip()
        if base == "decimal":
            return "number"
        try:
            return _FAMILIES[base]
        except KeyError:
            raise ContractError(
                f"column {self.name}: unknown contract data_type {self.data_type!r}"
            ) from None


@dataclass(frozen=True)
class Table:
    system: str
    name: str
    columns: tuple[Column, ...]
    declared_timezone: str

    @property
    def key(self) -> str:
        """``<system>.<table>``, as the raw gate and the generator name tables."""
        return f"{self.system}.{self.name}"

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def required(self) -> list[str]:
        return [c.name for c in self.columns if c.required]

    @property
    def optional(self) -> list[str]:
        return [c.name for c in self.columns if not c.required]

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"{self.key} has no contract column {name!r}")

    def of_family(self, *families: Family) -> list[str]:
        return [c.name for c in self.columns if c.family in families]

    @property
    def timezone(self) -> str:
        """The zone naive timestamps of this table are read in (``SOURCE_TIMEZONES`` wins)."""
        overrides = timezone_overrides()
        return overrides.get(self.key) or overrides.get(self.system) or self.declared_timezone


def _check_zone(zone: str, where: str) -> str:
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ContractError(
            f"{where}: {zone!r} is not an IANA time zone (e.g. UTC, Europe/Istanbul, America/Sao_Paulo)"
        ) from None
    return zone


def timezone_overrides(value: str | None = None) -> dict[str, str]:
    """Parse ``SOURCE_TIMEZONES`` (or ``value``): ``system[.table]=Zone`` pairs, comma-separated."""
    text = os.environ.get(TIMEZONE_ENV, "") if value is None else value
    out: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        target, sep, zone = part.partition("=")
        target, zone = target.strip(), zone.strip()
        if not sep or not re.fullmatch(r"[a-z_]+(\.[a-z_]+)?", target) or not zone:
            raise ContractError(
                f"{TIMEZONE_ENV}: cannot read {part!r}; write system=Zone or system.table=Zone, "
                "comma-separated (e.g. commerce=America/Sao_Paulo)"
            )
        out[target] = _check_zone(zone, TIMEZONE_ENV)
    return out


@cache
def _load(project_dir: Path) -> dict[str, Table]:
    files = sorted(project_dir.glob(SOURCES_GLOB))
    if not files:
        raise ContractError(f"no source YAML under {project_dir / SOURCES_GLOB}")
    tables: dict[str, Table] = {}
    for path in files:
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for source in doc.get("sources", []):
            system = source["name"]
            source_zone = (source.get("meta") or {}).get("source_timezone", DEFAULT_TIMEZONE)
            for tbl in source.get("tables", []):
                meta = tbl.get("meta") or {}
                zone = _check_zone(
                    meta.get("source_timezone", source_zone), f"{path}: {system}.{tbl['name']}"
                )
                columns = []
                for col in tbl.get("columns", []):
                    if "data_type" not in col:
                        raise ContractError(f"{path}: {system}.{tbl['name']}.{col['name']} has no data_type")
                    cmeta = col.get("meta") or {}
                    column = Column(
                        name=col["name"],
                        data_type=str(col["data_type"]),
                        required=bool(cmeta.get("required", False)),
                        pii=bool(cmeta.get("pii", False)),
                        description=str(col.get("description", "")).strip(),
                    )
                    column.family  # noqa: B018 - validates the type now, naming the column
                    columns.append(column)
                table = Table(system, tbl["name"], tuple(columns), zone)
                tables[table.key] = table
    return tables


def tables(project_dir: Path | None = None) -> dict[str, Table]:
    """Every contract table, keyed ``<system>.<table>``, in YAML order."""
    return dict(_load((project_dir or PROJECT_DIR).resolve()))


def table(key: str, project_dir: Path | None = None) -> Table:
    try:
        return tables(project_dir)[key]
    except KeyError:
        raise ContractError(
            f"{key!r} is not a contract table; known: {', '.join(tables(project_dir))}"
        ) from None


# ------------------------------------------------------------------------- timestamps as exports write them
# The forms a timestamp may take in a landing file (text after trimming; '' is null). The dbt macro
# `parse_timestamp_utc` (macros/staging/landing_casts.sql) states the same rule in SQL for dbt; the raw gate
# uses timestamp_utc_sql() below; tests/python/test_gate_casting.py and test_landing_casts.py hold both to one
# table of cases.
DATE_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
NAIVE_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(:[0-9]{2}([.][0-9]{1,9})?)?$"
OFFSET_PATTERN = NAIVE_PATTERN[:-1] + r"(Z|[+-][0-9]{2}(:?[0-9]{2})?)$"


def _sql_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def timestamp_utc_sql(expression: str, native_type: str, zone: str) -> str:
    """DuckDB SQL: a landing column as a UTC ``TIMESTAMP`` (naive, in UTC), null when unparseable.

    ``native_type`` is the DuckDB type the file carries the column in: ``TIMESTAMP WITH TIME ZONE`` is an
    instant; ``TIMESTAMP*`` and ``DATE`` are wall-clock values in ``zone``; text is read as ISO-8601 with an
    offset or ``Z`` (an instant), naive ``YYYY-MM-DD[ T]HH:MM[:SS[.f]]`` or date-only ``YYYY-MM-DD`` (wall
    clock in ``zone``). Anything else is null (a row defect for staging, an unparseable value for the gate).
    """
    t = native_type.upper()
    z = _sql_literal(zone)
    if t in ("TIMESTAMP WITH TIME ZONE", "TIMESTAMPTZ"):
        return f"timezone('UTC', {expression})"
    if t.startswith("TIMESTAMP") or t == "DATE":
        return f"timezone('UTC', timezone({z}, cast({expression} as timestamp)))"
    text = f"nullif(trim(cast({expression} as varchar)), '')"
    return (
        f"case when regexp_matches({text}, {_sql_literal(OFFSET_PATTERN)}) "
        f"then timezone('UTC', try_cast({text} as timestamptz)) "
        f"when regexp_matches({text}, {_sql_literal(DATE_PATTERN)}) "
        f"or regexp_matches({text}, {_sql_literal(NAIVE_PATTERN)}) "
        f"then timezone('UTC', timezone({z}, try_cast({text} as timestamp))) end"
    )


# ------------------------------------------------------------------------------ landing files
# The landing zone holds Parquet and CSV side by side in the same `load_date=YYYY-MM-DD` folders. Each format
# is read on its own (one reader per format, files united by column name), every column is cast to its
# contract representation with cast_sql(), and the two casts are united by name.
PARQUET_SUFFIXES: tuple[str, ...] = (".parquet",)
CSV_SUFFIXES: tuple[str, ...] = (".csv", ".csv.gz")
PARQUET_READ_OPTIONS = "hive_partitioning = true, union_by_name = true, hive_types = {'load_date': DATE}"
# RFC 4180 CSV with a header row, UTF-8 with or without BOM (DuckDB drops the BOM); quoted fields may hold
# delimiters, newlines and doubled quotes; '' and "" are null. Every column is read as text (cast_sql() does
# the typing, the same for CSV and Parquet). The dialect is fixed, not sniffed: `skip = 0` stops the sniffer
# from skipping "odd" leading lines (it would silently drop rows); `strict_mode` without `null_padding` makes
# a ragged row an error naming file and line instead of a shifted or padded row. `.csv.gz` is decompressed
# by its extension.
CSV_READ_OPTIONS = (
    "header = true, all_varchar = true, union_by_name = true, hive_partitioning = true, "
    "hive_types = {'load_date': DATE}, delim = ',', quote = '\"', escape = '\"', skip = 0, "
    "strict_mode = true, null_padding = false, allow_quoted_nulls = true, encoding = 'utf-8'"
)

FileFormat = Literal["parquet", "csv"]


def file_format(path: str | Path) -> FileFormat | None:
    """``parquet`` or ``csv`` for a landing file's name (``.parquet``, ``.csv``, ``.csv.gz``), else None."""
    name = os.path.basename(os.fspath(path).rstrip("/")).lower()  # no Path: called once per landing file
    if name.startswith((".", "_")):
        return None
    if name.endswith(PARQUET_SUFFIXES):
        return "parquet"
    if name.endswith(CSV_SUFFIXES):
        return "csv"
    return None


def _path_list(paths: str | Path | list[str] | list[Path]) -> str:
    items = [paths] if isinstance(paths, str | Path) else list(paths)
    if not items:
        raise ValueError("no paths to read")
    literals = [_sql_literal(str(p)) for p in items]
    return literals[0] if len(literals) == 1 else "[" + ", ".join(literals) + "]"


def parquet_reader_sql(paths: str | Path | list[str] | list[Path], *, one_schema: bool = False) -> str:
    """DuckDB ``read_parquet(...)`` over landing files or globs (hive ``load_date`` column, union by name).

    ``one_schema``: the caller knows every file has the same columns, in the same order, of the same types
    (the raw gate reads each footer first): DuckDB then binds the first file's schema instead of opening
    every file to unite them (0.16 against 0.55 s for the 7,300 files of one table at scale l)."""
    options = PARQUET_READ_OPTIONS
    if one_schema:
        options = options.replace("union_by_name = true", "union_by_name = false")
    return f"read_parquet({_path_list(paths)}, {options})"


def csv_reader_sql(paths: str | Path | list[str] | list[Path]) -> str:
    """DuckDB ``read_csv(...)`` over landing files or globs, with :data:`CSV_READ_OPTIONS`."""
    return f"read_csv({_path_list(paths)}, {CSV_READ_OPTIONS})"


# ------------------------------------------------------------------------------ native types and casting
NativeKind = Literal[
    "text",
    "integer",
    "float",
    "decimal",
    "boolean",
    "timestamp",
    "timestamptz",
    "date",
    "null",
    "scalar",
    "blob",
    "nested",
]

# the DuckDB type each family is read into
SQL_TYPES: dict[Family, str] = {
    "string": "VARCHAR",
    "integer": "BIGINT",
    "number": "DOUBLE",
    "boolean": "BOOLEAN",
    "timestamp": "TIMESTAMP",
    "date": "DATE",
}

_INTEGER_TYPES = frozenset(
    {
        "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT",
        "UHUGEINT", "INT", "INT1", "INT2", "INT4", "INT8", "SHORT", "LONG", "SIGNED",
    }
)  # fmt: skip
_FLOAT_TYPES = frozenset({"FLOAT", "DOUBLE", "REAL", "FLOAT4", "FLOAT8"})
_TEXT_TYPES = frozenset({"VARCHAR", "TEXT", "STRING", "CHAR", "BPCHAR", "NVARCHAR"})
_BLOB_TYPES = frozenset({"BLOB", "BYTEA", "BINARY", "VARBINARY", "BIT", "BITSTRING"})

# the native kinds each contract family accepts (anything else: a fatal schema error naming file and column)
COMPATIBLE_KINDS: dict[Family, frozenset[str]] = {
    "string": frozenset(
        {
            "text",
            "integer",
            "float",
            "decimal",
            "boolean",
            "timestamp",
            "timestamptz",
            "date",
            "null",
            "scalar",
        }
    ),
    "integer": frozenset({"text", "integer", "float", "decimal", "boolean", "null"}),
    "number": frozenset({"text", "integer", "float", "decimal", "null"}),
    "boolean": frozenset({"text", "boolean", "integer", "null"}),
    "timestamp": frozenset({"text", "timestamp", "timestamptz", "date", "null"}),
    "date": frozenset({"text", "timestamp", "timestamptz", "date", "null"}),
}

TRUE_WORDS = ("true", "t", "1", "yes", "y")
FALSE_WORDS = ("false", "f", "0", "no", "n")
INTEGER_PATTERN = r"^[+-]?[0-9]+$"  # integer text (the bigint cast of anything else would round it)
# A number must be finite and below this in magnitude: staging holds amounts as decimal(18, 2), and NaN,
# infinities or 1e30 would stop the build (a cast error) instead of quarantining one row.
MAX_NUMBER = 1e15


def native_kind(native_type: str) -> NativeKind:
    """What a DuckDB type name is, for casting: ``text``, ``integer``, ``float``, ``decimal``, ``boolean``,
    ``timestamp`` (any naive TIMESTAMP*), ``timestamptz``, ``date``, ``null`` (an all-null column), ``scalar``
    (another scalar: TIME, INTERVAL, UUID ...), ``blob`` or ``nested`` (LIST, STRUCT, MAP, UNION, ARRAY)."""
    t = " ".join(native_type.strip().upper().split())
    base = t.split("(")[0].strip()
    if t.endswith("]") or base.startswith(("STRUCT", "MAP", "UNION", "LIST", "ARRAY")):
        return "nested"
    if base in _BLOB_TYPES:
        return "blob"
    if base in _TEXT_TYPES or base.startswith("ENUM"):
        return "text"
    if base in _INTEGER_TYPES:
        return "integer"
    if base in _FLOAT_TYPES:
        return "float"
    if base in ("DECIMAL", "NUMERIC"):
        return "decimal"
    if base in ("BOOLEAN", "BOOL", "LOGICAL"):
        return "boolean"
    if t in ("TIMESTAMP WITH TIME ZONE", "TIMESTAMPTZ"):
        return "timestamptz"
    if base.startswith("TIMESTAMP") or base == "DATETIME":
        return "timestamp"
    if base == "DATE":
        return "date"
    if base == "NULL":
        return "null"
    return "scalar"


def compatible(native_type: str, family: Family) -> bool:
    """Whether a column the files carry as ``native_type`` can be read as ``family`` (value by value)."""
    return native_kind(native_type) in COMPATIBLE_KINDS[family]


def _text(expression: str, native_type: str) -> str:
    """The column as text (as is: no trim)."""
    return expression if native_type.strip().upper() == "VARCHAR" else f"cast({expression} as varchar)"


def present_sql(expression: str, native_type: str) -> str:
    """DuckDB SQL: true when the raw value is there (not null, and not '' after trim for text)."""
    kind = native_kind(native_type)
    if kind == "null":
        return "false"
    if kind == "text":
        return f"(nullif(trim({_text(expression, native_type)}), '') is not null)"
    return f"({expression} is not null)"


def _integral_bigint(expression: str, kind: str) -> str:
    """A float or decimal expression as BIGINT when it is integral (and fits), else null."""
    finite = f"isfinite({expression}) and " if kind == "float" else ""
    return f"case when {finite}{expression} = trunc({expression}) then try_cast({expression} as bigint) end"


def _cast_value(expression: str, native_type: str, column: Column, zone: str) -> str:
    kind = native_kind(native_type)
    family = column.family
    x = expression
    if kind == "null":
        return f"cast(null as {SQL_TYPES[family]})"
    text = _text(x, native_type)
    trimmed = f"trim({text})"
    if family == "string":
        if kind == "text":
            return text
        if kind in ("float", "decimal"):
            return f"coalesce(cast({_integral_bigint(x, kind)} as varchar), cast({x} as varchar))"
        return f"cast({x} as varchar)"
    if family == "integer":
        if kind == "integer":
            return f"try_cast({x} as bigint)"
        if kind in ("float", "decimal"):
            return _integral_bigint(x, kind)
        if kind == "boolean":
            return f"case when {x} then 1 when not {x} then 0 end"
        # only integer text goes through the bigint cast: DuckDB's try_cast('12.5' as bigint) rounds to 13
        as_double = f"try_cast({trimmed} as double)"
        return (
            f"case when regexp_matches({trimmed}, {_sql_literal(INTEGER_PATTERN)}) "
            f"then try_cast({trimmed} as bigint) else {_integral_bigint(as_double, 'float')} end"
        )
    if family == "number":
        value = f"try_cast({trimmed} as double)" if kind == "text" else f"cast({x} as double)"
        # NaN compares above every number, so this also turns NaN and infinities into null (failed)
        return f"case when abs({value}) < {MAX_NUMBER!r} then {value} end"
    if family == "boolean":
        if kind == "boolean":
            return x
        if kind == "integer":
            return f"case when {x} = 1 then true when {x} = 0 then false end"
        words = f"lower({trimmed})"
        true_list = ", ".join(_sql_literal(w) for w in TRUE_WORDS)
        false_list = ", ".join(_sql_literal(w) for w in FALSE_WORDS)
        return f"case when {words} in ({true_list}) then true when {words} in ({false_list}) then false end"
    if family == "timestamp":
        return timestamp_utc_sql(x, native_type, zone)
    # date
    if kind == "date":
        return x
    if kind == "timestamptz":
        return f"cast(timezone('UTC', {x}) as date)"
    if kind == "timestamp":
        return f"cast({x} as date)"
    return f"coalesce(try_cast({trimmed} as date), try_cast(try_cast({trimmed} as timestamp) as date))"


def cast_sql(expression: str, native_type: str, column: Column, zone: str) -> tuple[str, str]:
    """DuckDB SQL ``(value, failed)`` reading a landing column the way staging reads it.

    ``expression`` is the column in the landing file (e.g. a quoted identifier), ``native_type`` the DuckDB
    type the file carries it in, ``zone`` the IANA zone naive timestamps are written in
    (:attr:`Table.timezone`). ``value`` is the column in its contract representation (:data:`SQL_TYPES`);
    ``failed`` is true when the raw value is present (not null, and not '' after trim for text) but ``value``
    is null: a row defect.

    * string: text as is (no trim); integers as text; integral floats/decimals as integer text (``123.0`` ->
      ``'123'``), other numbers as text; anything else cast to text.
    * integer: integers as BIGINT; integral floats/decimals as BIGINT (else failed); text
      ``try_cast(trim(x) as bigint)`` for integer text (``^[+-]?[0-9]+$``: DuckDB would round ``'12.5'`` to
      13), else ``try_cast(trim(x) as double)`` when that is integral; boolean 1/0.
    * number: any numeric as DOUBLE; text ``try_cast(trim(x) as double)``; only finite values below
      :data:`MAX_NUMBER` in magnitude (else failed).
    * boolean: boolean as is; integers 0/1 (others failed); text ``true t 1 yes y`` / ``false f 0 no n``
      (case-insensitive, trimmed), anything else failed.
    * timestamp: :func:`timestamp_utc_sql` (a naive UTC TIMESTAMP).
    * date: DATE as is; naive TIMESTAMP* cast to date, TIMESTAMPTZ as its UTC date; text
      ``try_cast(trim(x) as date)``, else the date of ``try_cast(trim(x) as timestamp)``.

    A native type the family cannot read (:func:`compatible`) raises :class:`ContractError`; the raw gate
    reports it as a fatal schema error naming file and column before anything is cast.
    """
    if not compatible(native_type, column.family):
        raise ContractError(
            f"column {column.name}: a {native_type} column cannot be read as {column.family} "
            f"(the contract's {column.data_type})"
        )
    value = f"cast({_cast_value(expression, native_type, column, zone)} as {SQL_TYPES[column.family]})"
    if column.family == "string" or native_kind(native_type) == "null":
        return value, "false"
    return value, f"({present_sql(expression, native_type)} and {value} is null)"


def loaded_at_sql(
    expression: str | None, native_type: str | None, load_date: str = LOAD_DATE
) -> tuple[str, str]:
    """DuckDB SQL ``(value, failed)`` for ``_loaded_at`` as a naive UTC TIMESTAMP.

    Real exports rarely carry ``_loaded_at``: when the files have no such column (``expression`` None) or a
    row has no value, it is the end of the load day, ``cast(load_date as timestamp) + interval 1 day`` (UTC).
    A value is read like any timestamp column, with naive values in UTC; an unparseable one is null and
    failed.
    """
    default = f"(cast({load_date} as timestamp) + interval 1 day)"
    if expression is None or native_type is None or native_kind(native_type) == "null":
        return default, "false"
    if native_kind(native_type) not in COMPATIBLE_KINDS["timestamp"]:
        raise ContractError(f"column {LOADED_AT}: a {native_type} column cannot be read as a timestamp")
    parsed = timestamp_utc_sql(expression, native_type, "UTC")
    present = present_sql(expression, native_type)
    return f"(case when {present} then {parsed} else {default} end)", f"({present} and {parsed} is null)"
