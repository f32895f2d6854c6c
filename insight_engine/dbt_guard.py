"""A dbt-duckdb plugin (profiles.yml, ``plugins:``) that keeps a hand-run ``dbt`` and the scheduled job off
each other's build warehouse.

``insight-engine run`` holds ``<warehouse folder>/run.lock`` (``runlock.RunLock``) for the whole run, and
closes the build warehouse between its stages (the gates read it). An analytics engineer's ``dbt build``
on the same file in such a gap would interleave with the job's models; one started while the job's dbt
has the file open fails on DuckDB's own file lock with a message that names neither the job nor what to
do. Before dbt opens the file, this plugin looks at the run lock:

* held by another process: dbt stops with an error naming the run and the way out;
* held by this process: the job's own in-process dbt, which passes;
* free, and this process is the ``dbt`` command line: it takes the lock for the rest of the command (the
  kernel drops it at exit, however dbt ends), so a scheduled run that starts meanwhile exits 7 at once
  naming the hand-run dbt, instead of failing later on DuckDB's lock. dbt run inside another program
  (pytest, a notebook, ``dbtRunner``) only checks: its process may live on after its dbt command.
"""

from __future__ import annotations

import atexit
import fcntl
import os
import sys
from pathlib import Path
from typing import Any

from dbt.adapters.duckdb.plugins import BasePlugin

from insight_engine.runlock import LOCK_NAME, Holder, LockHeld, RunLock


class WarehouseBusy(RuntimeError):
    """The scheduled job holds the run lock of the warehouse this dbt command would open."""


def lock_holder(database: Path) -> Holder | None:
    """Who holds the run lock of ``database``'s folder, if another process does; None when it is free or
    held by this very process (the job's own in-process dbt)."""
    lock = Path(database).parent / LOCK_NAME
    if not lock.exists():
        return None
    fd = os.open(lock, os.O_RDONLY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = Holder.parse(os.pread(fd, 4096, 0).decode("utf-8", "replace"))
            if holder is not None and holder.pid == os.getpid():
                return None
            return holder or Holder(pid=None, host=None, run_id=None, started_at=None)
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


def check(database: str) -> None:
    """Raise WarehouseBusy if a scheduled run holds the lock of ``database``'s folder."""
    if not database or database == ":memory:" or "://" in database or database.startswith("md:"):
        return
    holder = lock_holder(Path(database))
    if holder is None:
        return
    who = holder.describe() if holder.pid else "a process that has not written its name yet"
    raise WarehouseBusy(
        f"{database} is being built by the scheduled insight-engine job ({who}); this dbt command did "
        f"nothing. Wait until it ends (it releases {Path(database).parent / LOCK_NAME}), or build your own "
        "copy: INSIGHT_WAREHOUSE=warehouse/dev.duckdb dbt build"
    )


_held: dict[Path, RunLock] = {}


def _is_dbt_command_line() -> bool:
    return Path(sys.argv[0]).name == "dbt"


def hold(database: str) -> None:
    """Take ``database``'s run lock for the rest of this process (the ``dbt`` command line only)."""
    folder = Path(database).parent
    if folder in _held or not folder.is_dir():
        return
    command = " ".join(["dbt", *sys.argv[1:2]]) + " (by hand)"
    try:
        lock = RunLock(folder, run_id=f"dbt-{os.getpid()}", command=command).acquire()
    except LockHeld as held:
        raise WarehouseBusy(
            f"{database} is being built by the scheduled insight-engine job "
            f"({held.holder.describe() if held.holder else 'a process that has not written its name yet'}); "
            "this dbt command did nothing. Wait until it ends, or build your own copy: "
            "INSIGHT_WAREHOUSE=warehouse/dev.duckdb dbt build"
        ) from None
    _held[folder] = lock
    atexit.register(lock.release)  # a clean exit empties the record (a killed dbt leaves a stale one)


def guard(database: str) -> None:
    """What the plugin does before dbt opens ``database``."""
    check(database)
    if _is_dbt_command_line() and database and database != ":memory:" and "://" not in database:
        hold(database)


class Plugin(BasePlugin):
    def update_connection_config(self, creds: Any, config: dict[str, Any]) -> None:
        guard(str(creds.path))
