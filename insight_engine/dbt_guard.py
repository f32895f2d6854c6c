"""A dbt-duckdb plugin (profiles.yml, ``plugins:``) that keeps a hand-run ``dbt`` off a warehouse the
scheduled job is building.

``insight-engine run`` holds ``<warehouse folder>/run.lock`` (``runlock.RunLock``) for the whole run, and
closes the build warehouse between its stages (the gates read it). An analytics engineer's ``dbt build``
on the same file in such a gap would interleave with the job's models; one started while the job's dbt
has the file open fails on DuckDB's own file lock with a message that names neither the job nor what to
do. Before dbt opens the file, this plugin looks at the run lock: held by another process, it stops dbt
with an error naming the run and the way out. The job's own dbt runs inside the job's process, which holds
the lock, and passes.

The check takes nothing and holds nothing: a job that starts while a hand-run dbt has the file open is
refused at its dbt stage by DuckDB's lock (it says so and exits with its dbt code; nothing is corrupted).
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import Any

from dbt.adapters.duckdb.plugins import BasePlugin

from insight_engine.runlock import LOCK_NAME, Holder


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


class Plugin(BasePlugin):
    def update_connection_config(self, creds: Any, config: dict[str, Any]) -> None:
        check(str(creds.path))
