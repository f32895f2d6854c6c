"""DuckDB connections that the job opens outside dbt, held to the dbt profile's memory limit.

The profile (profiles.yml) sets ``memory_limit`` from ``DUCKDB_MEMORY_LIMIT`` (default 4GB). A connection
opened with ``duckdb.connect()`` would take DuckDB's own default instead, 80% of the machine's RAM: the
publish step, which copies every BI table and exports it to Parquet, reached the daily run's peak RSS at
scale l that way (8.7 GB, issue 13). Every connection of the gates and of publish goes through
:func:`configure`.

The same limit decides how many dbt nodes a DuckDB build runs at once (:func:`dbt_threads`).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import duckdb

MEMORY_LIMIT_ENV = "DUCKDB_MEMORY_LIMIT"
DEFAULT_MEMORY_LIMIT = "4GB"


def memory_limit() -> str:
    """The memory limit every DuckDB connection of the job gets: ``DUCKDB_MEMORY_LIMIT`` or 4GB."""
    return os.environ.get(MEMORY_LIMIT_ENV) or DEFAULT_MEMORY_LIMIT


def configure(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """Hold ``con`` to :func:`memory_limit` (it spills to its temp directory past it) and return it.

    A value DuckDB cannot read (``DUCKDB_MEMORY_LIMIT=lots``) fails here, naming the variable.
    """
    limit = memory_limit()
    try:
        con.execute(f"set memory_limit = '{limit.replace(chr(39), '')}'")  # no quote can end the literal
    except duckdb.Error as exc:
        raise ValueError(
            f"{MEMORY_LIMIT_ENV}={limit!r} is not a memory size DuckDB can read (e.g. 4GB, 6000MB): {exc}"
        ) from exc
    return con


DBT_THREADS_ENV = "DBT_THREADS"
DEFAULT_DBT_THREADS = 2
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(b|bytes|kb|mb|gb|tb|kib|mib|gib|tib)?\s*$", re.IGNORECASE)
_UNITS = {
    "b": 1,
    "bytes": 1,
    "kb": 10**3,
    "mb": 10**6,
    "gb": 10**9,
    "tb": 10**12,
    "kib": 2**10,
    "mib": 2**20,
    "gib": 2**30,
    "tib": 2**40,
}


def size_bytes(text: str) -> int | None:
    """``4GB`` -> 4e9 bytes, as DuckDB reads it (GB = 1000^3, GiB = 1024^3); None for what it is not."""
    match = _SIZE.match(text)
    if not match:
        return None
    return int(float(match.group(1)) * _UNITS[(match.group(2) or "b").lower()])


def dbt_threads(warehouse: Path) -> tuple[int, str]:
    """How many dbt nodes a DuckDB build runs at once, and why (``DBT_THREADS`` in the profile).

    ``DBT_THREADS`` wins when set. Otherwise 2 (the 2 cores this job is sized for), and 1 when the build
    warehouse is already larger than DuckDB's memory limit: the nodes of one dbt process share one DuckDB
    database and its limit, and at that size two heavy nodes at once spill and each runs 2-4 times
    slower than alone. Measured on the daily run (bench/README.md, "One dbt node at a time"): at scale l
    (a 12 GB warehouse) the dbt build took 367.4 and 431.8 s with 1 thread against 411.7 and 545.2 s with 2
    (two rounds); at m (1.3 GB) 58.7 s with 2 against 82.8 s with 1, where many small nodes gain from
    running beside each other.
    """
    chosen = os.environ.get(DBT_THREADS_ENV)
    if chosen:
        if not chosen.strip().isdigit() or int(chosen) < 1:
            raise ValueError(f"{DBT_THREADS_ENV}={chosen!r}: give a whole number of dbt threads, 1 or more")
        return int(chosen), f"{DBT_THREADS_ENV}={chosen}"
    limit_text = memory_limit()
    limit = size_bytes(limit_text)
    size = warehouse.stat().st_size if warehouse.exists() else 0
    if limit is not None and size > limit:
        return 1, (
            f"the build warehouse ({size / 1e9:.2f} GB) is larger than DuckDB's memory limit ({limit_text}): "
            "heavy nodes run one at a time rather than spill side by side"
        )
    return DEFAULT_DBT_THREADS, (
        f"the build warehouse ({size / 1e9:.2f} GB) fits DuckDB's memory limit ({limit_text})"
    )
