"""How the world is written: the contract's columns in its order, one file per load day in a hive
partition (``<out>/<system>/<table>/load_date=YYYY-MM-DD/part-0.parquet``, a row group per shard; CSV and a
too-low open-file limit: ``part-<shard>`` files), in one of the :data:`DIALECTS`. A dialect decides only
how the world is written, never what it is.

The columns of every table, their order and their logical types come from the raw-data contract
(:mod:`insight_engine.contract`, read from the sources' YAML); the generator keeps no column list of its own.
"""

from __future__ import annotations

import gzip
import io
import shutil
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from insight_engine import contract
from insight_engine.generator.survey import keep_question_metrics
from insight_engine.generator.world import DAY, HOUR

# How the same world is written (``generate(dialect=...)``, ``insight-engine generate --dialect``):
DIALECTS: dict[str, str] = {
    "iso": "Parquet, timestamps as ISO-8601 text with the customer's UTC offset (the default)",
    "naive": "Parquet, timestamps as naive wall-clock text in each system's zone (declared in the manifest)",
    "native": "Parquet with native types: TIMESTAMP, DATE, DECIMAL(18,2), INT32, integer line numbers",
    "csv": "CSV (RFC 4180, header, '' = null; .csv.gz for web events; a UTF-8 BOM on some tables)",
    "sparse": "a small shop's backfill: one load, no costs, phones, web events, cases, NPS/CES or _loaded_at",
}
DEFAULT_DIALECT = "iso"
# naive: the zone each system writes its wall-clock times in. None has had daylight saving time since
# 2022, so every wall-clock time of the default window names exactly one instant.
NAIVE_ZONES: dict[str, str] = {
    "commerce": "America/Sao_Paulo",
    "crm": "Europe/Istanbul",
    "survey": "Asia/Tehran",
    "web": "UTC",
}
# native: systems whose TIMESTAMP columns hold naive wall-clock time in this zone (the others: UTC instants)
NATIVE_WALL_CLOCK_ZONES: dict[str, str] = {"crm": "Europe/Istanbul"}
NATIVE_DECIMAL = pa.decimal128(18, 2)
# csv: the largest table is gzipped; the text-heavy ones start with a UTF-8 byte-order mark
CSV_GZIP_TABLES = frozenset({"web.events"})
CSV_BOM_TABLES = frozenset({"survey.questions", "survey.answers", "crm.customers"})
UTF8_BOM = b"\xef\xbb\xbf"
# sparse: what a small shop's export does not have
SPARSE_ABSENT_TABLES = frozenset({"web.events", "crm.cases"})
# sparse: a one-off backfill holds the current version of a re-exported record, not its history
SPARSE_LATEST_VERSION_KEYS: dict[str, str] = {
    "crm.customers": "crm_customer_id",
    "commerce.orders": "order_id",
}
SPARSE_ABSENT_COLUMNS = frozenset({"unit_cost", "phone"})
SPARSE_METRICS = frozenset({"csat", "open_text"})


# ------------------------------------------------------------------ the contract, as the writer sees it
class ContractMismatch(RuntimeError):
    """The generator's frame for a table lacks a column the raw-data contract lists (a generator bug)."""


def contract_columns() -> dict[str, dict[str, list[str]]]:
    """system -> table -> ordered contract column names, from :mod:`insight_engine.contract`."""
    out: dict[str, dict[str, list[str]]] = {}
    for table in contract.tables().values():
        out.setdefault(table.system, {})[table.name] = table.column_names
    return out


def _contract_frame(df: pd.DataFrame, table: contract.Table) -> pd.DataFrame:
    missing = [c for c in [*table.column_names, "_t"] if c not in df.columns]
    if missing:
        raise ContractMismatch(
            f"the generator's {table.key} frame has no column(s) {', '.join(missing)}, which the raw-data "
            f"contract ({contract.SOURCES_GLOB}) lists: generate them in insight_engine/generator/ "
            "or change the contract"
        )
    return df


# ------------------------------------------------------------------ column writers, one per dialect
def _is_amount(name: str) -> bool:
    return name == "amount" or name.endswith(("_amount", "_price", "_cost"))


def _text_array(values: pd.Series) -> pa.Array:
    """The values as text, nulls (None, NaN, NA) as null. Text columns convert in Arrow; only a column
    holding other Python objects (numbers mixed in) goes value by value through ``str``."""
    try:
        if values.dtype == object:
            arr = pa.array(values.to_numpy(dtype=object), type=pa.string(), from_pandas=True)
        else:
            arr = pa.array(values, from_pandas=True)
        if pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type):
            return arr.cast(pa.string())
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        pass
    return pa.array(
        [None if v is None or (isinstance(v, float) and np.isnan(v)) else str(v) for v in values],
        type=pa.string(),
    )


def _iso_array(values: pd.Series, family: contract.Family) -> pa.Array:
    """The canonical column as the ``iso`` dialect writes it: text, BIGINT, DOUBLE or BOOLEAN."""
    if family in ("string", "timestamp", "date"):
        return _text_array(values)
    if family == "boolean":
        return pa.array(values.to_numpy(dtype=object), type=pa.bool_())
    number = family == "number"
    return pa.array(
        pd.array(values).astype("float64" if number else "Int64"),
        type=pa.float64() if number else pa.int64(),
        from_pandas=True,
    )


def _instants(values: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """UTC instants of the canonical ISO-8601 text, and where planted text is no timestamp at all."""
    text = pd.Series(values.to_numpy(dtype=object), dtype=object)
    instants = pd.to_datetime(text, utc=True, format="ISO8601", errors="coerce")
    return instants, (text.notna() & instants.isna()).to_numpy()


def _wall_clock(instants: pd.Series, zone: str) -> pd.Series:
    """Naive local time in ``zone`` of UTC instants (what a clock on the wall there showed)."""
    return instants.dt.tz_convert(zone).dt.tz_localize(None)


def naive_text(values: pd.Series, zone: str) -> np.ndarray:
    """Timestamps as an export that knows no offsets writes them: wall-clock text in ``zone``.

    Rows alternate between ``YYYY-MM-DD HH:MM:SS`` and ``YYYY-MM-DDTHH:MM:SS.ffffff``; nulls stay null and
    planted text that is no timestamp stays as it is.
    """
    raw = values.to_numpy(dtype=object)
    instants, unparseable = _instants(values)
    local = _wall_clock(instants, zone).to_numpy(dtype="datetime64[us]")
    spaced = np.char.replace(np.datetime_as_string(local, unit="s"), "T", " ")
    fraction = np.datetime_as_string(local, unit="us")
    text = np.where(np.arange(len(raw)) % 2 == 0, spaced, fraction).astype(object)
    text[np.isnat(local)] = None
    text[unparseable] = raw[unparseable]
    return text


def _native_array(values: pd.Series, column: contract.Column, system: str) -> pa.Array:
    """Parquet's own types, as a database export writes them."""
    family = column.family
    if family == "timestamp":
        instants, _ = _instants(values)  # planted text a TIMESTAMP cannot hold becomes null
        zone = NATIVE_WALL_CLOCK_ZONES.get(system)
        if zone:
            return pa.Array.from_pandas(_wall_clock(instants, zone)).cast(pa.timestamp("us"))
        return pa.Array.from_pandas(instants).cast(pa.timestamp("us", tz="UTC"))
    if family == "date":
        return _text_array(values).cast(pa.date32())
    if family == "integer":
        return _iso_array(values, family).cast(pa.int32())
    if family == "number" and _is_amount(column.name):
        return _iso_array(values, family).cast(NATIVE_DECIMAL)
    if column.name == "order_line_id":  # shops number the lines of an order 1, 2, 3
        return _text_array(values).cast(pa.int64())
    return _iso_array(values, family)


def _column_array(values: pd.Series, column: contract.Column, system: str, dialect: str) -> pa.Array:
    if dialect == "native":
        return _native_array(values, column, system)
    if dialect == "naive" and column.family == "timestamp":
        return pa.array(naive_text(values, NAIVE_ZONES[system]), type=pa.string())
    return _iso_array(values, column.family)


def source_timezones(dialect: str) -> str:
    """The ``SOURCE_TIMEZONES`` a reader must set for ``dialect`` ('' when no naive time is written)."""
    zones = {"naive": NAIVE_ZONES, "native": NATIVE_WALL_CLOCK_ZONES}.get(dialect, {})
    return ",".join(f"{system}={zone}" for system, zone in zones.items())


# ------------------------------------------------------------------ files
WRITER_THREADS = 2


# A table's rows wait in :class:`LoadFiles` until this many have gathered (or the last shard is written):
# a row group costs about 1 ms of Arrow's per-column work however few rows it holds, and a shard of
# 100,000 people has 17 refunds a day. Web events (4M rows a shard) are written shard by shard.
LOAD_FILE_BUFFER_ROWS = 1_000_000


class LoadFiles:
    """One open Parquet file per load folder of a world written in shards, so a load folder holds one
    ``part-0.parquet`` whatever the shard count, as an export sends one file per table and day. (One file
    per shard made scale l 80,228 files, ten per load: 0.85 ms of Arrow's per-file work each in the
    generator, and the gate, the file listings and every reader of the zone paid for the count again.)

    A shard's rows of a table are held (:meth:`add`) until ``buffer_rows`` rows of the table have gathered,
    then written as one row group per load in shard order, so a file's rows are in the order one shard
    after another would have written them. :meth:`flush` writes what is held; :meth:`close` flushes and
    writes the footers; a file is valid only after it."""

    def __init__(self, buffer_rows: int | None = None) -> None:
        self._open: dict[Path, pq.ParquetWriter] = {}
        self._held: dict[Path, list[tuple[pa.Table, np.ndarray]]] = {}
        self.buffer_rows = LOAD_FILE_BUFFER_ROWS if buffer_rows is None else buffer_rows

    def __len__(self) -> int:
        return len(self._open)

    def _fit(self, path: Path, table: pa.Table, schema: pa.Schema) -> pa.Table:
        if table.schema.equals(schema):
            return table
        try:  # one shard's all-null column may have been typed otherwise: the first shard's types win
            return table.cast(schema)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, ValueError) as exc:
            raise ValueError(
                f"{path}: a shard's columns {table.schema} do not fit the file's {schema}: "
                "every shard must write one schema per table (a generator bug)"
            ) from exc

    def add(self, path: Path, table: pa.Table, load_day: np.ndarray) -> None:
        """Hold a shard's rows of the table at ``path`` (the table's folder), and write what is held once
        ``buffer_rows`` rows have gathered. Called by one thread at a time."""
        held = self._held.setdefault(path, [])
        if held:
            table = self._fit(path, table, held[0][0].schema)
        held.append((table, load_day))
        if sum(t.num_rows for t, _ in held) >= self.buffer_rows:
            self._write_held(path)

    def flush(self) -> None:
        """Write every table's held rows (after the last shard)."""
        for path in list(self._held):
            self._write_held(path)

    def _write_held(self, path: Path) -> None:
        held = self._held.pop(path, [])
        if held:
            table = held[0][0] if len(held) == 1 else pa.concat_tables([t for t, _ in held])
            _write_parquet(table, np.concatenate([d for _, d in held]), path, files=self)

    def write(self, path: Path, table: pa.Table) -> None:
        """Add ``table`` as a row group of the file at ``path`` (opened by the first rows written to it).
        Called by several threads, never two for one path."""
        writer = self._open.get(path)
        if writer is None:
            writer = self._open[path] = pq.ParquetWriter(path, table.schema)
        writer.write_table(self._fit(path, table, writer.schema))

    def close(self, write_held: bool = True) -> None:
        """Write what is held (unless ``write_held`` is false: a failed generation), then finish every
        file (its footer); the files stay as they are when this raises."""
        try:
            if write_held:
                self.flush()
            self._held.clear()
        finally:
            opened, self._open = self._open, {}
            errors = []
            for writer in opened.values():
                try:
                    writer.close()
                except OSError as exc:  # every file is closed, the first error is raised
                    errors.append(exc)
            if errors:
                raise errors[0]


def _days(load_day: np.ndarray) -> list[tuple[str, np.ndarray]]:
    """The rows of each load day, in the frame's order within a day: ``[(YYYY-MM-DD, rows)]``.

    Sorted on the day *number* (a stable sort of integers); only the distinct days become text."""
    if len(load_day) == 0:  # a shard without rows of this table writes no file
        return []
    number = load_day.astype("datetime64[D]").astype(np.int64)
    order = np.argsort(number, kind="stable")
    days, starts = np.unique(number[order], return_index=True)
    ends = [*starts[1:].tolist(), len(order)]
    names = np.datetime_as_string(days.astype("datetime64[D]"), unit="D").tolist()
    return [(name, order[a:b]) for name, a, b in zip(names, starts.tolist(), ends, strict=True)]


def _write_parquet(
    table: pa.Table, load_day: np.ndarray, path: Path, part: int = 0, files: LoadFiles | None = None
) -> None:
    """One ``part-<shard>.parquet`` per ``load_date=`` folder (hive partitions; the column is in the path),
    or, with ``files``, a row group of that folder's one ``part-0.parquet`` (:class:`LoadFiles`).

    Each writer thread gathers its day's rows (``take``) and writes them: Arrow releases the GIL while it
    gathers, encodes and writes, so files are built two at a time. (``pyarrow.dataset.write_dataset`` with
    partitioning cost about 2 ms per file, most of the generator's time once thousands of daily folders are
    written; one gather of the whole table before the threads was a single-core pass over every string.)"""
    days = _days(load_day)
    # one chunk per column: Arrow gathers from a many-chunk column (a frame with planted rows appended is
    # one) by first concatenating its chunks, which would happen once per day
    table = table.combine_chunks()

    def write(day: tuple[str, np.ndarray]) -> None:
        name, rows = day
        folder = path / f"load_date={name}"
        folder.mkdir(parents=True, exist_ok=True)
        if files is not None:
            files.write(folder / "part-0.parquet", table.take(rows))
        else:
            pq.write_table(table.take(rows), folder / f"part-{part}.parquet")

    with ThreadPoolExecutor(max_workers=WRITER_THREADS) as pool:
        list(pool.map(write, days))


def _write_csv(
    table: pa.Table, load_day: np.ndarray, path: Path, *, gzipped: bool, bom: bool, part: int = 0
) -> None:
    """One ``part-<shard>.csv[.gz]`` per ``load_date=`` folder: header row, RFC 4180 quoting, null as ''."""
    table = table.combine_chunks()  # see _write_parquet
    for name, rows in _days(load_day):
        buf = io.BytesIO()
        pacsv.write_csv(table.take(rows), buf)
        data = (UTF8_BOM if bom else b"") + buf.getvalue()
        folder = path / f"load_date={name}"
        folder.mkdir(parents=True, exist_ok=part > 0)
        if gzipped:
            (folder / f"part-{part}.csv.gz").write_bytes(gzip.compress(data, mtime=0))
        else:
            (folder / f"part-{part}.csv").write_bytes(data)


def write_table(
    df: pd.DataFrame,
    table: contract.Table,
    path: Path,
    dialect: str,
    end_date: date,
    part: int = 0,
    files: LoadFiles | None = None,
) -> int:
    """Write one contract table in ``dialect``: the contract's columns in its order, then ``_loaded_at``.

    Shard 0 (``part``) replaces the table's folder; later shards add their ``part-<n>`` files to it, or,
    with ``files`` (Parquet dialects), their rows to its one file per load (written when enough rows
    have gathered, see :class:`LoadFiles`)."""
    df = _contract_frame(df, table)
    if dialect == "sparse":  # one backfill: every row in the end date's folder
        load_day = np.full(len(df), np.datetime64(end_date, "D"))
    else:
        load_day = (df["_t"].to_numpy().astype(np.int64) // DAY).astype("datetime64[D]")
    # files land the next morning: _loaded_at = load_date + 1 day 02:00 UTC
    loaded_at = (load_day.astype("datetime64[s]") + np.timedelta64(DAY + 2 * HOUR, "s")).astype(
        "datetime64[us]"
    )
    arrays = {
        column.name: _column_array(df[column.name], column, table.system, dialect)
        for column in table.columns
        if not (dialect == "sparse" and column.name in SPARSE_ABSENT_COLUMNS)
    }
    if dialect == "iso":
        arrays["_loaded_at"] = pa.array(loaded_at, type=pa.timestamp("us"))
    elif dialect in ("naive", "native"):  # the loader's clock: an instant, whatever the source's zone
        arrays["_loaded_at"] = pa.array(loaded_at, type=pa.timestamp("us", tz="UTC"))
    elif dialect == "csv":
        # Arrow writes a timestamp as 'YYYY-MM-DD HH:MM:SS'
        arrays["_loaded_at"] = pa.array(loaded_at.astype("datetime64[s]")).cast(pa.string())
    if path.exists() and part == 0:
        shutil.rmtree(path)
    table_out = pa.table(arrays)
    if dialect == "csv":
        _write_csv(
            table_out,
            load_day,
            path,
            gzipped=table.key in CSV_GZIP_TABLES,
            bom=table.key in CSV_BOM_TABLES,
            part=part,
        )
    elif files is not None:
        files.add(path, table_out, load_day)
    else:
        _write_parquet(table_out, load_day, path, part)
    return table_out.num_rows


def sparse_frames(tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """What a small shop's one-off backfill holds: no web events, no cases (nor the CRM contacts about
    cases), CSAT and comments only, and the current version of each re-exported record (one load cannot
    hold two versions of a key). Planted bad rows stay wherever their table, question and case do."""
    out = {k: df for k, df in tables.items() if k not in SPARSE_ABSENT_TABLES}
    out = keep_question_metrics(out, SPARSE_METRICS)
    # without a case module the CRM logs no contacts about cases; its other interactions stay
    interactions = out["crm.interactions"]
    out["crm.interactions"] = interactions[interactions["case_id"].isna()].reset_index(drop=True)
    for key, pk in SPARSE_LATEST_VERSION_KEYS.items():
        df = out[key]
        clean = df["_bad"].isna() if "_bad" in df else pd.Series(True, index=df.index)
        latest = df[clean].sort_values("_t", kind="stable").drop_duplicates(pk, keep="last")
        out[key] = pd.concat([latest, df[~clean]]).sort_index().reset_index(drop=True)
    return out


def dialect_notes(dialect: str) -> list[str]:
    """What a dialect changes, for the manifest (and the people reading it)."""
    notes = {
        "naive": [
            "timestamps: naive wall-clock text in each system's zone (source_timezones), rows alternating "
            "'YYYY-MM-DD HH:MM:SS' and 'YYYY-MM-DDTHH:MM:SS.ffffff'; planted unparseable text kept as is",
            "_loaded_at: TIMESTAMP WITH TIME ZONE (UTC), the loader's clock",
        ],
        "native": [
            "timestamps: TIMESTAMP WITH TIME ZONE (UTC), except naive wall-clock TIMESTAMP for the systems "
            "in source_timezones; birth_date DATE; amounts DECIMAL(18,2); counts INT32; order_line_id BIGINT",
            "planted unparseable_timestamp rows carry a null timestamp instead (a TIMESTAMP cannot hold "
            "text): staging sees them as missing timestamps",
        ],
        "csv": [
            "files: part-0.csv (web events part-0.csv.gz), header row, RFC 4180 quoting, null written as '' "
            "(so an empty comment reads as null); _loaded_at as 'YYYY-MM-DD HH:MM:SS' UTC",
            "UTF-8 BOM on: " + ", ".join(sorted(CSV_BOM_TABLES)),
        ],
        "sparse": [
            "absent tables (no folder): "
            + ", ".join(sorted(SPARSE_ABSENT_TABLES))
            + "; crm.interactions without the contacts about cases",
            "absent columns (in every table): " + ", ".join(sorted(SPARSE_ABSENT_COLUMNS)),
            "survey metrics: only " + ", ".join(sorted(SPARSE_METRICS)),
            "one backfill load (load_date = end_date) with the latest version of each re-exported record; "
            "no _loaded_at column",
        ],
    }
    return notes.get(dialect, [])
