"""The synthetic landing zone: deterministic, complete against the contract, and honest about its defects."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from insight_engine.generate import BAD_KINDS_BY_TABLE, CONTRACT, generate


def _digest(root: Path) -> dict[str, str]:
    """Content digest per table, independent of file layout: rows sorted as text."""
    out = {}
    with duckdb.connect() as con:
        for system, tables in CONTRACT.items():
            for table in tables:
                rows = con.execute(
                    f"select * from read_parquet('{root}/{system}/{table}/*/*.parquet', "
                    "hive_partitioning=true) order by all"
                ).fetchall()
                out[f"{system}.{table}"] = hashlib.sha256(repr(rows).encode()).hexdigest()
    return out


@pytest.fixture(scope="module")
def twice(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    base = tmp_path_factory.mktemp("gen")
    a, b, c = base / "a", base / "b", base / "c"
    generate(a, scale="xs", seed=11, days=45)
    generate(b, scale="xs", seed=11, days=45)
    generate(c, scale="xs", seed=12, days=45)
    return a, b, c


def test_same_seed_gives_identical_rows(twice):
    a, b, _ = twice
    assert _digest(a) == _digest(b)


def test_other_seed_gives_other_rows(twice):
    a, _, c = twice
    da, dc = _digest(a), _digest(c)
    assert da["commerce.orders"] != dc["commerce.orders"]
    assert da["web.events"] != dc["web.events"]


def test_every_contract_table_has_every_contract_column(xs_raw):
    for system, tables in CONTRACT.items():
        for table, columns in tables.items():
            files = sorted((xs_raw / system / table).glob("load_date=*/*.parquet"))
            assert files, f"{system}.{table} has no files"
            names = pq.read_schema(files[0]).names
            assert names[: len(columns)] == columns, f"{system}.{table}: {names}"
            assert "_loaded_at" in names


def test_one_partition_per_day(xs_raw):
    manifest = json.loads((xs_raw / "_manifest.json").read_text())
    days = {p.name for p in (xs_raw / "web" / "events").iterdir()}
    assert len(days) == manifest["days"]
    assert min(days) == f"load_date={manifest['start_date']}"
    assert max(days) == f"load_date={manifest['end_date']}"


def test_bad_rows_are_added_copies_counted_in_the_manifest(tmp_path, xs_raw):
    clean = tmp_path / "clean"
    generate(clean, scale="xs", seed=7, bad_rate=0.0)
    bad = json.loads((xs_raw / "_manifest.json").read_text())
    good = json.loads((clean / "_manifest.json").read_text())
    for key, kinds in BAD_KINDS_BY_TABLE.items():
        planted = sum(bad["bad_rows"][key].values())
        assert set(bad["bad_rows"][key]) == set(kinds)
        assert all(n >= 1 for n in bad["bad_rows"][key].values()), key
        assert bad["rows"][key] == good["rows"][key] + planted, key


def test_ground_truth_covers_every_system(xs_raw):
    truth = pq.read_table(xs_raw / ".truth" / "identities.parquet").to_pandas()
    assert set(truth["system"]) == {"crm", "commerce", "survey", "web"}
    assert truth["source_id"].is_unique


def test_same_person_has_differently_formatted_contacts(xs_raw):
    """The identity problem is real: raw e-mails differ in case/whitespace across systems."""
    with duckdb.connect() as con:
        crm = con.execute(
            f"select email from read_parquet('{xs_raw}/crm/customers/*/*.parquet') where email is not null"
        ).fetchall()
        phones = con.execute(
            f"select phone from read_parquet('{xs_raw}/crm/customers/*/*.parquet')"
        ).fetchall()
    emails = [e for (e,) in crm]
    assert any(e != e.strip().lower() for e in emails)
    assert any(p.startswith("0") for (p,) in phones) and any(p.startswith("+") for (p,) in phones)


def test_verbatims_are_multilingual_and_messy(xs_raw):
    with duckdb.connect() as con:
        texts = [
            t
            for (t,) in con.execute(
                f"select answer_text from read_parquet('{xs_raw}/survey/answers/*/*.parquet') "
                "where answer_text is not null"
            ).fetchall()
        ]
    joined = "\n".join(texts)
    assert "ş" in joined or "ı" in joined  # Turkish
    assert any("\u0600" <= ch <= "\u06ff" for ch in joined)  # Persian (RTL)
    assert "ã" in joined or "ç" in joined  # Portuguese
    assert any("\n" in t for t in texts) and any('"' in t for t in texts)
    assert "" in texts  # "no comment" as an empty string, as real exports do


def test_unknown_scale_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="unknown scale"):
        generate(tmp_path, scale="xxl")
