"""Exit codes of ``insight-engine run``: one per way a scheduled run can end, and what each asks of the
operator. Defined here once; the CLI's ``--help``, the README table and the tests read them from here."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    UNEXPECTED = 1  # a Python traceback: a bug or a broken environment, not a data problem
    USAGE = 2  # bad arguments, or the landing zone (or the chosen load) is missing; click uses 2 too
    RAW_GATE = 3
    BUILD = 4
    MART_GATE = 5
    PUBLISH = 6
    LOCKED = 7


# What each code means and what it asks the operator to do (README "Exit codes", `run --help`).
MEANING: dict[ExitCode, tuple[str, str]] = {
    ExitCode.OK: ("published", "nothing"),
    ExitCode.UNEXPECTED: (
        "unexpected error (traceback on stderr)",
        "report it with the traceback; rerun once the cause is fixed",
    ),
    ExitCode.USAGE: (
        "bad arguments, or the landing zone / chosen load is missing",
        "fix the command line or the path; for a missing load, rerun when the export has landed",
    ),
    ExitCode.RAW_GATE: (
        "raw gate failed: a landing file breaks the contract",
        "ask the source owner for a fixed export (table and column are named; report in build/gates)",
    ),
    ExitCode.BUILD: (
        "dbt build or a dbt test failed",
        "read the failed nodes in the message / logs/dbt.log; fix the model or data, rerun",
    ),
    ExitCode.MART_GATE: (
        "mart gate failed: the built marts are not fit for BI",
        "read the gate report in build/gates; fix, rerun",
    ),
    ExitCode.PUBLISH: (
        "publish failed (disk full, permissions, ...): serving still holds the last good version",
        "fix the warehouse folder (space, permissions), then rerun",
    ),
    ExitCode.LOCKED: (
        "another run holds the lock (its pid and start time are printed)",
        "nothing: the running job will publish; alert only if this repeats for longer than a run takes",
    ),
}

# failed_gate of a pipeline result -> exit code
FOR_FAILED_GATE: dict[str, ExitCode] = {
    "landing_zone": ExitCode.USAGE,
    "raw_gate": ExitCode.RAW_GATE,
    "dbt_build": ExitCode.BUILD,
    "mart_gate": ExitCode.MART_GATE,
    "publish": ExitCode.PUBLISH,
}


def for_failed_gate(failed_gate: str | None) -> ExitCode:
    if failed_gate is None:
        return ExitCode.OK
    return FOR_FAILED_GATE.get(failed_gate, ExitCode.UNEXPECTED)


def help_table() -> str:
    """The codes as lines for ``--help`` (click keeps lines after a ``\\b`` marker as they are)."""
    return "\n".join(f"{int(code)}  {meaning}" for code, (meaning, _) in MEANING.items())
