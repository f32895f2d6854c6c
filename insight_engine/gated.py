"""The raw gate's memory of the loads it has already validated (``gated_loads.json`` beside the build
warehouse), so that a daily run validates the day's loads, not the whole history again.

Per landing table it keeps the fingerprint of every load folder that passed (file names, sizes, SHA-256: the
landing ledger's, :mod:`insight_engine.ledger`), the hash of the suite and contract it passed under, and the
running totals the gate's results are made of: per row-level expectation the element, missing and unexpected
counts; per contract column the rows, present and uncastable values (all loads, and the newest load on its
own, for the fill-rate comparison). A gate run then reads only the new load folders of a table, adds their
counts to the totals and judges the sums, so its verdicts, counts and percentages are those a full regate
would give (``tests/python/test_gated_loads.py`` checks this); only the sample values come from the new
loads alone. A table is regated whole when the state cannot stand for it: no state yet, ``--full-refresh``,
its suite or contract changed, a load it gated changed or disappeared, or a uniqueness expectation that does
not key on ``load_date`` (duplicates across loads would need every load).

Foreign keys keep, per expectation, the child's non-null values counted and its orphans (value, count) over
the loads gated. A daily run checks the new loads' child values and the kept orphans against every parent
key (read whole, so a parent delivered late clears an old orphan). That stands for the child's old rows only
while the child's and every parent's gated loads are unchanged (a parent's keys then only grow); otherwise,
or with more than ``validate.REFERENCE_ORPHANS_KEPT`` distinct orphans, the child is read whole.

Two more things spare a daily run from opening every landing file again (80,228 at scale l):
- the rows per load of the loads gated (the row-count checks compare loads; the gated folders are
  unchanged, so their counts are);
- the schema the gate read from each landing file, by the file's SHA-256: the Parquet footer's Arrow
  schema, or a CSV file's columns as DuckDB describes them. The schema check still covers every file on
  every run. A file is read again when its content hash is new (the ledger's rule: a file whose size or
  mtime moved is hashed again) and on ``--full-refresh``; a CSV schema also names the DuckDB release and
  reader options it was described with.

The state is written only when the whole gate passed, in one rename: a failed or killed gate finds the same
loads new again.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from insight_engine import ledger

STATE_NAME = "gated_loads.json"
VERSION = 1

Fingerprint = list[list[Any]]  # per file: name, size, mtime_ns, sha256 (see ledger.FileKey)
Counts = dict[str, int]


def expectation_key(expectation_type: str, kwargs: dict[str, Any]) -> str:
    """A stable name for one expectation of a suite (its type and arguments)."""
    return json.dumps([expectation_type, kwargs], sort_keys=True, default=str)


def suite_hash(suite_path: Path, contract_repr: str) -> str:
    """What a table's totals depend on besides its data: the suite file and the contract it is read with."""
    digest = hashlib.sha256(Path(suite_path).read_bytes())
    digest.update(contract_repr.encode("utf-8"))
    return digest.hexdigest()


@dataclass
class TableTotals:
    """Everything a table's row-level results are summed from, over the loads it has gated."""

    suite: str
    loads: dict[str, Fingerprint]  # load date (ISO) -> fingerprint of its folder
    expectations: dict[str, Counts] = field(default_factory=dict)  # key -> element, missing, unexpected
    columns: dict[str, Counts] = field(default_factory=dict)  # column -> rows, present, uncastable
    newest: str | None = None  # the newest gated load date
    newest_columns: dict[str, Counts] = field(default_factory=dict)  # column -> rows, present (newest load)
    # rows per load date of the loads gated (a load without rows has none); None in a state written before
    # it was kept: the gate then counts every load again
    load_rows: dict[str, int] | None = None
    # per foreign-key expectation: its non-null child values ("total") and its orphans ([value, count], or
    # None when too many to keep) over the loads gated; None in a state written before they were kept
    references: dict[str, dict[str, Any]] | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "suite": self.suite,
            "loads": self.loads,
            "expectations": self.expectations,
            "columns": self.columns,
            "newest": self.newest,
            "newest_columns": self.newest_columns,
            "load_rows": self.load_rows,
            "references": self.references,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TableTotals:
        return cls(
            suite=data["suite"],
            loads={k: [list(f) for f in v] for k, v in data["loads"].items()},
            expectations=data.get("expectations", {}),
            columns=data.get("columns", {}),
            newest=data.get("newest"),
            newest_columns=data.get("newest_columns", {}),
            load_rows=_load_rows(data.get("load_rows")),
            references=data["references"] if isinstance(data.get("references"), dict) else None,
        )


@dataclass
class Scope:
    """What the gate reads of one table in this run."""

    table: str
    loads: dict[str, Fingerprint]  # every load folder of the table now: date (ISO) -> fingerprint
    cached: TableTotals | None  # None: regate every load
    reason: str  # why the table is regated whole, or how many loads are new

    @property
    def new_loads(self) -> frozenset[date] | None:
        """The load dates to read (None: every load)."""
        if self.cached is None:
            return None
        return frozenset(date.fromisoformat(d) for d in self.loads if d not in self.cached.loads)


def _strip_mtime(fingerprint: Fingerprint) -> list[tuple[Any, ...]]:
    return [(f[0], f[1], f[3]) for f in fingerprint]


class State:
    """The gated-loads file of one build warehouse."""

    def __init__(
        self, path: Path, tables: dict[str, TableTotals], schemas: dict[str, str] | None = None
    ) -> None:
        self.path = Path(path)
        self.tables = tables
        # landing file SHA-256 -> the schema the gate read from it (validate._RawSource serialises it)
        self.schemas: dict[str, str] = schemas or {}

    @classmethod
    def read(cls, path: Path) -> State:
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except (FileNotFoundError, json.JSONDecodeError):
            return cls(path, {})
        if data.get("version") != VERSION:
            return cls(path, {})
        try:
            tables = {t: TableTotals.from_json(v) for t, v in data.get("tables", {}).items()}
        except (KeyError, TypeError, ValueError):
            return cls(path, {})
        return cls(path, tables, _schemas_from_json(data.get("schemas")))

    def fingerprints(self, raw_root: Path) -> dict[str, list]:
        """The landing zone's load folders as the ledger fingerprints them, hashing only the files this state
        does not know (:func:`ledger.fingerprints_of`)."""
        known = {
            f"{t.replace('.', '/')}/load_date={d}": fp
            for t, totals in self.tables.items()
            for d, fp in totals.loads.items()
        }
        return ledger.fingerprints_of(Path(raw_root), known)

    def scopes(
        self,
        raw_root: Path,
        suite_hashes: dict[str, str],
        *,
        regate_all: bool,
        exact: dict[str, bool],
        landing: dict[str, list] | None = None,
    ) -> dict[str, Scope]:
        """Per table (``system.table``): its load folders now and whether the totals can stand for the
        ones it gated. ``exact[table]`` is False when a suite's results cannot be summed per load;
        ``landing``: the zone's fingerprints if the caller has them (:func:`ledger.compare`), else they are
        taken here (hashing only files the state does not know)."""
        now = landing if landing is not None else self.fingerprints(raw_root)
        by_table: dict[str, dict[str, Fingerprint]] = {}
        for key, fp in now.items():
            system, name, folder = key.split("/", 2)
            load = folder.split("=", 1)[1]
            try:
                date.fromisoformat(load)
            except ValueError:  # not a load folder: the gate's schema check names it
                continue
            by_table.setdefault(f"{system}.{name}", {})[load] = [list(f) for f in fp]
        scopes = {}
        for table, suite in suite_hashes.items():
            loads = by_table.get(table, {})
            cached = self.tables.get(table)
            reason = ""
            if regate_all:
                reason = "full refresh: every load regated"
            elif cached is None:
                reason = "no load gated before"
            elif cached.suite != suite:
                reason = "its suite or contract changed since the last gate: every load regated"
            elif not exact.get(table, False):
                reason = "a uniqueness check spans loads: every load regated"
            else:
                changed = [
                    d
                    for d, fp in cached.loads.items()
                    if d not in loads or _strip_mtime(loads[d]) != _strip_mtime(fp)
                ]
                if changed:
                    reason = (
                        f"{len(changed)} load(s) gated before changed or disappeared "
                        f"(e.g. {sorted(changed)[0]}): every load regated"
                    )
            if reason:
                scopes[table] = Scope(table, loads, None, reason)
            else:
                assert cached is not None
                new = len([d for d in loads if d not in cached.loads])
                scopes[table] = Scope(
                    table, loads, cached, f"{new} new load(s), {len(cached.loads)} gated before"
                )
        return scopes

    def write(self, tables: dict[str, TableTotals], schemas: dict[str, str] | None = None) -> None:
        """Replace the state in one rename (a kill leaves the old one or the new one); ``schemas``: the
        landing files' schemas by SHA-256 (None keeps those read)."""
        self.tables = tables
        if schemas is not None:
            self.schemas = schemas
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f".{self.path.name}.tmp")
        payload = {
            "version": VERSION,
            "tables": {t: v.to_json() for t, v in sorted(tables.items())},
            "schemas": _schemas_to_json(self.schemas),
        }
        tmp.write_text(json.dumps(payload, sort_keys=True), encoding="utf-8")
        with tmp.open("rb") as f:
            os.fsync(f.fileno())
        os.replace(tmp, self.path)


def _load_rows(data: Any) -> dict[str, int] | None:
    if not isinstance(data, dict):
        return None
    return {str(d): int(n) for d, n in data.items()}


def _schemas_to_json(schemas: dict[str, str]) -> dict[str, Any]:
    """Each distinct schema once (a zone's files share a few), and per file hash its index."""
    values = sorted(set(schemas.values()))
    index = {v: i for i, v in enumerate(values)}
    return {"values": values, "files": {sha: index[v] for sha, v in sorted(schemas.items())}}


def _schemas_from_json(data: Any) -> dict[str, str]:
    """The inverse of :func:`_schemas_to_json`; anything malformed reads as no memory (footers read again)."""
    if not isinstance(data, dict):
        return {}
    values, files = data.get("values"), data.get("files")
    if not isinstance(values, list) or not isinstance(files, dict):
        return {}
    try:
        return {str(sha): str(values[int(i)]) for sha, i in files.items()}
    except (IndexError, TypeError, ValueError):
        return {}
