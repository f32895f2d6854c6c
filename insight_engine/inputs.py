"""Checks for values that reach SQL or a path: folder paths, run ids and dbt vars (RELIABILITY.md, injection).

The landing-zone root goes into SQL string literals and glob patterns (``read_parquet('<root>/...')``),
Spark back-quoted identifiers and a ``str.format`` template; a run id names a folder under ``published/``;
dbt vars are pasted into SQL. Each is refused with a message naming it before anything runs, rather than
escaped at every place it is used.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path
from typing import Any

# quotes and back-quotes end SQL literals and Spark identifiers; braces are str.format fields; * ? [ ] are
# glob characters; ; ends a statement; control characters (NUL, newline ...) end lines and C strings
_PATH_FORBIDDEN = re.compile(r"[\x00-\x1f\x7f'\"`{}*?\[\];]")
RUN_ID = re.compile(r"^[0-9]{8}T[0-9]{6,12}Z$|^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")

# dbt vars the project reads and what each must be (dbt_project.yml `vars:`)
DATE_VARS = (
    "as_of_date",
    "calendar_start",
    "calendar_end",
    "incremental_from_load_date",
    "incremental_to_load_date",
)
CURRENCY_VARS = ("reporting_currency",)


class UnsafeValue(ValueError):
    """A value that would reach SQL or a path and is refused."""


def check_path(value: str | Path, what: str) -> Path:
    """``value`` as a Path, or :class:`UnsafeValue` naming ``what`` and the offending character."""
    text = str(value)
    if not text.strip():
        raise UnsafeValue(f"{what} is empty")
    bad = _PATH_FORBIDDEN.search(text)
    if bad:
        raise UnsafeValue(
            f"{what} {text!r} contains {bad.group()!r}: quotes, back-quotes, braces, glob characters, "
            "';' and control characters (NUL, newline, tab) are not allowed in a path this job puts into SQL"
        )
    return Path(text)


def check_run_id(run_id: str) -> str:
    """A run id names a folder (``published/<run_id>``): letters, digits, '_' and '-' only, no path."""
    if not isinstance(run_id, str) or not RUN_ID.match(run_id):
        raise UnsafeValue(
            f"run id {run_id!r} must be letters, digits, '_' and '-' "
            "(at most 64, e.g. 20261202T172256144803Z)"
        )
    return run_id


def check_dbt_vars(values: dict[str, Any]) -> dict[str, Any]:
    """dbt vars passed by this package: dates YYYY-MM-DD, currencies three capitals, the rest numbers."""
    for name, value in values.items():
        if not re.fullmatch(r"[a-z][a-z0-9_]{0,63}", str(name)):
            raise UnsafeValue(f"dbt var name {name!r} is not an identifier")
        if value is None:
            continue
        if name in DATE_VARS:
            text = value.isoformat() if isinstance(value, date | datetime) else str(value)
            if not _DATE.match(text):
                raise UnsafeValue(f"dbt var {name} must be a date YYYY-MM-DD, got {value!r}")
            try:
                date.fromisoformat(text)
            except ValueError:
                raise UnsafeValue(f"dbt var {name} is not a calendar date: {value!r}") from None
        elif name in CURRENCY_VARS:
            if not _CURRENCY.match(str(value)):
                raise UnsafeValue(f"dbt var {name} must be an ISO currency code like USD, got {value!r}")
        elif isinstance(value, bool) or not isinstance(value, int | float):
            raise UnsafeValue(f"dbt var {name} must be a number, got {value!r}")
    return values
