"""DuckDB connections that the job opens outside dbt, held to the dbt profile's memory limit.

The profile (profiles.yml) sets ``memory_limit`` from ``DUCKDB_MEMORY_LIMIT`` (default 4GB). A connection
opened with ``duckdb.connect()`` would take DuckDB's own default instead, 80% of the machine's RAM: the
publish step, which copies every BI table and exports it to Parquet, reached the daily run's peak RSS at
scale l that way (8.7 GB, issue 13). Every connection of the gates and of publish goes through
:func:`configure`.
"""

from __future__ import annotations

import os

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
