"""PII (issue 15, item 6): nothing personal leaves through the serving warehouse, the gates' files or logs.

The scheduled job runs once over the hostile landing zone (session fixture ``hostile_job``; it holds
upper-case, unicode and padded e-mails and a comment carrying an e-mail and a phone). Then:

* every table and column of the published serving file is scanned, names and values, for e-mails (pattern and
  the landing zone's own addresses), phones (the landing zone's numbers, any format), CRM first + last names
  and birth dates;
* the gates' results JSON and Data Docs, dbt's log and the job's own output are scanned for raw
  e-mails and phones;
* the verbatim that carried an e-mail and a phone reaches BI masked;
* ``customer_key`` is not a hash of any e-mail, so it cannot be joined back without the restricted data.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest
from hostile_zone import PII_EMAIL, PII_PHONE

from insight_engine.validate import pii_columns

EMAIL = re.compile(r"[\w.%+-]+@[\w-]+(\.[\w-]+)+")
SEPARATORS = re.compile(r"[\s().+\-/]")
PATTERNS = ["e-mail pattern", "landing e-mails", "landing phones", "CRM full names", "CRM birth dates"]


@dataclass(frozen=True)
class Personal:
    emails: set[str]  # lower-cased
    phone_digits: set[str]  # last 10 digits of every phone
    full_names: set[str]  # "first last", lower-cased
    birth_dates: set[str]  # YYYY-MM-DD, before 1999 (dim_date starts in 1999 and holds every later day)


def _values(raw: Path, table: str, columns: list[str]) -> list[tuple]:
    system, name = table.split(".")
    files = f"'{raw}/{system}/{name}/*/*.parquet'"
    sql = f"select {', '.join(columns)} from read_parquet({files}, union_by_name=true)"
    with duckdb.connect() as con:
        return con.execute(sql).fetchall()


@pytest.fixture(scope="module")
def personal(hostile_job) -> Personal:
    raw = hostile_job.raw
    emails, phones = {PII_EMAIL.lower()}, {PII_PHONE}
    for table, cols in [
        ("crm.customers", ["email", "phone"]),
        ("commerce.customers", ["email", "phone"]),
        ("survey.invitations", ["email", "phone"]),
        ("survey.responses", ["email", "null"]),
    ]:
        for email, phone in _values(raw, table, cols):
            if email and email.strip():
                emails.add(email.strip().lower())
            if phone:
                phones.add(phone)
    digits = {re.sub(r"\D", "", p)[-10:] for p in phones if len(re.sub(r"\D", "", p)) >= 10}
    names = _values(raw, "crm.customers", ["first_name", "last_name", "cast(birth_date as varchar)"])
    full = {f"{f} {la}".lower() for f, la, _ in names if f and la}
    births = {b[:10] for _, _, b in names if b and b[:4] < "1999"}
    assert len(emails) > 100 and len(digits) > 100 and len(full) > 100 and len(births) > 50
    return Personal(emails, digits, full, births)


def _leaks(text: str, p: Personal) -> list[str]:
    """What in ``text`` is personal data (empty: nothing)."""
    found = []
    lowered = text.lower()
    if EMAIL.search(text):
        found.append(f"e-mail {EMAIL.search(text).group()!r}")  # type: ignore[union-attr]
    squeezed = SEPARATORS.sub("", text)
    found += [f"phone …{d}" for d in p.phone_digits if d in squeezed]
    found += [f"name {n!r}" for n in p.full_names if n in lowered]
    return found


def _serving_columns(job) -> list[tuple[str, str, str, str]]:
    with job.connect(serving=True) as con:
        return con.execute(
            "select table_schema, table_name, column_name, data_type from information_schema.columns "
            "where table_catalog = current_database() order by 1, 2, 3"
        ).fetchall()


def test_the_job_published(hostile_job) -> None:
    assert hostile_job.rc == 0, hostile_job.stderr[-3000:]


def test_no_published_column_is_named_like_personal_data(hostile_job) -> None:
    columns = _serving_columns(hostile_job)
    assert len(columns) > 100
    named = pii_columns(f"{c}" for _, _, c, _ in columns)
    assert named == [], named


def test_no_published_value_holds_an_email_phone_name_or_birth_date(hostile_job, personal: Personal) -> None:
    leaks: list[str] = []
    scanned = 0
    with hostile_job.connect(serving=True) as con:
        for schema, table, column, data_type in _serving_columns(hostile_job):
            rel = f'"{schema}"."{table}"'
            if data_type.upper() in ("VARCHAR", "JSON") or data_type.upper().endswith("[]"):
                values = con.execute(f'select distinct cast("{column}" as varchar) from {rel}').fetchall()
                for (v,) in values:
                    scanned += 1
                    if v and (hits := _leaks(v, personal)):
                        leaks.append(f"{schema}.{table}.{column}: {hits[:3]} in {v[:80]!r}")
            if data_type.upper() in ("DATE", "VARCHAR") or data_type.upper().startswith("TIMESTAMP"):
                (n,) = con.execute(
                    f'select count(distinct cast("{column}" as varchar)[:10]) from {rel} '
                    f'where cast("{column}" as varchar)[:10] in (select unnest(?))',
                    [sorted(personal.birth_dates)],
                ).fetchone()
                if n >= 3:
                    leaks.append(f"{schema}.{table}.{column}: {n} CRM birth dates")
    print(f"\nPII scan: {scanned:,} distinct text values, {len(PATTERNS)} patterns", end=" ")
    assert leaks == [], "\n".join(leaks[:30])


def test_a_comment_with_an_email_and_a_phone_is_masked_in_bi(hostile_job) -> None:
    with hostile_job.connect(serving=True) as con:
        got = con.execute(
            "select comment_text from rox.fct_feedback_verbatims where response_id = 'RH-comment-pii'"
        ).fetchall()
    assert got == [("call me on [phone] or write to [email] please",)]


def test_customer_key_is_no_hash_of_an_email_or_phone(hostile_job, personal: Personal) -> None:
    keys: set[str] = set()
    with hostile_job.connect(serving=True) as con:
        for schema, table, column, _ in _serving_columns(hostile_job):
            if column == "customer_key":
                rows = con.execute(f'select distinct customer_key from "{schema}"."{table}"').fetchall()
                keys |= {k for (k,) in rows if k}
    assert len(keys) > 100
    for email in personal.emails:
        for algo in (hashlib.md5, hashlib.sha1, hashlib.sha256):
            assert algo(email.encode()).hexdigest() not in keys, email


def _files(folder: Path) -> list[Path]:
    return [
        p for p in folder.rglob("*") if p.is_file() and p.suffix in {".json", ".html", ".log", ".txt", ""}
    ]


def _raw_leaks(text: str, p: Personal) -> list[str]:
    lowered = text.lower()
    found = [e for e in p.emails if e in lowered]
    squeezed = SEPARATORS.sub("", text)
    found += [f"phone …{d}" for d in p.phone_digits if d in squeezed]
    return found


@pytest.mark.parametrize("where", ["gates", "dbt_logs", "job_output"])
def test_reports_and_logs_print_no_raw_email_or_phone(hostile_job, personal: Personal, where: str) -> None:
    if where == "job_output":
        texts = {"stdout": hostile_job.stdout, "stderr": hostile_job.stderr}
    else:
        folder = hostile_job.gates_dir if where == "gates" else hostile_job.dbt_logs
        files = _files(folder)
        assert files, f"nothing written under {folder}"
        texts = {str(f.relative_to(folder)): f.read_text(errors="replace") for f in files}
    leaks = {name: hits[:3] for name, text in texts.items() if (hits := _raw_leaks(text, personal))}
    assert leaks == {}, leaks
