"""What the build warehouse has read from the landing zone: one fingerprint per load folder, kept beside the
build warehouse (``landing_ledger.json``), so that a daily run notices a load re-delivered with corrections.

The incremental models rewrite new loads and a lookback window on their own (``macros/staging/
incremental_by_load.sql``); a load corrected further back used to need ``--since`` by hand, and without it
the marts mixed the corrected rows (models rebuilt from every load) with the old ones (the incremental
click stream). A run now compares each load folder with the ledger: a folder whose files changed (names,
sizes, and the SHA-256 of any file whose size or mtime moved) makes the run rewrite every load from the
oldest changed one (as ``--since`` would). Files copied again unchanged (a re-sent export) change nothing.
A load folder that disappeared is reported: only ``--full-refresh`` forgets rows (README).

The ledger is written only after a successful ``dbt build``, so a failed or killed run finds the same
changes again.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from insight_engine.publish import sha256_file

LEDGER_NAME = "landing_ledger.json"
VERSION = 1

FileKey = tuple[str, int, int, str]  # name, size, mtime_ns, sha256


def _load_folders(raw_root: Path) -> dict[str, Path]:
    """``system/table/load_date=D`` -> its folder, for every load of every table."""
    return {
        str(folder.relative_to(raw_root)): folder
        for folder in sorted(Path(raw_root).glob("*/*/load_date=*"))
        if folder.is_dir()
    }


def _load_date(key: str) -> date | None:
    try:
        return date.fromisoformat(key.rsplit("load_date=", 1)[1][:10])
    except ValueError:
        return None


@dataclass
class Changes:
    changed: list[str]  # load folders whose content differs from what the ledger recorded
    removed: list[str]  # load folders the ledger recorded that are gone
    new: int  # load folders never recorded
    fingerprints: dict[str, list[FileKey]]

    @property
    def rewrite_from(self) -> date | None:
        """The oldest load date among changed folders (None: nothing changed)."""
        dates = [d for d in map(_load_date, self.changed) if d is not None]
        return min(dates) if dates else None


def read(path: Path) -> dict[str, list[FileKey]]:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return {}
    if data.get("version") != VERSION:
        return {}
    return {k: [tuple(f) for f in v] for k, v in data.get("loads", {}).items()}


def compare(raw_root: Path, ledger_path: Path) -> Changes:
    """The landing zone's loads against the ledger. Hashes only files that are new or whose size or mtime
    moved, so a daily run reads the new day's files, not the history."""
    old = read(ledger_path)
    fingerprints = fingerprints_of(raw_root, old)
    changed, new = [], 0
    for key, files in fingerprints.items():
        if key not in old:
            new += 1
        elif [(f[0], f[1], f[3]) for f in files] != [(f[0], f[1], f[3]) for f in old[key]]:
            changed.append(key)
    removed = sorted(set(old) - set(fingerprints))
    return Changes(changed=changed, removed=removed, new=new, fingerprints=fingerprints)


def fingerprints_of(raw_root: Path, known: dict[str, list]) -> dict[str, list[FileKey]]:
    """Every load folder's files as (name, size, mtime_ns, sha256). A file whose name, size and mtime match
    ``known`` (an earlier fingerprint of the same folder) keeps its recorded hash: only new or touched files
    are read."""
    out: dict[str, list[FileKey]] = {}
    for key, folder in _load_folders(Path(raw_root)).items():
        prior_files = {f[0]: f for f in known.get(key, [])}
        files: list[FileKey] = []
        for path in sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")):
            st = path.stat()
            prior = prior_files.get(path.name)
            if prior is not None and prior[1] == st.st_size and prior[2] == st.st_mtime_ns:
                files.append(tuple(prior))  # type: ignore[arg-type]
            else:
                files.append((path.name, st.st_size, st.st_mtime_ns, sha256_file(path)))
        out[key] = files
    return out


def write(ledger_path: Path, fingerprints: dict[str, list[FileKey]]) -> None:
    """Replace the ledger in one rename (a kill leaves the old one or the new one)."""
    ledger_path = Path(ledger_path)
    tmp = ledger_path.with_name(f".{ledger_path.name}.tmp")
    tmp.write_text(json.dumps({"version": VERSION, "loads": fingerprints}, sort_keys=True), encoding="utf-8")
    with tmp.open("rb") as f:
        os.fsync(f.fileno())
    os.replace(tmp, ledger_path)
