"""The synthetic landing zone: deterministic, complete against the contract, and honest about its defects."""

from __future__ import annotations

import gzip
import hashlib
import json
import re
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from insight_engine import contract
from insight_engine import generate as gen
from insight_engine.cli import main
from insight_engine.generate import BAD_KINDS_BY_TABLE, generate
from insight_engine.generator import world, writer

TABLES = contract.tables()


def _digest(root: Path) -> dict[str, str]:
    """Content digest per table, independent of file layout: rows sorted as text."""
    out = {}
    with duckdb.connect() as con:
        for key, table in TABLES.items():
            rows = con.execute(
                f"select * from read_parquet('{root}/{table.system}/{table.name}/*/*.parquet', "
                "hive_partitioning=true) order by all"
            ).fetchall()
            out[key] = hashlib.sha256(repr(rows).encode()).hexdigest()
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
    for key, table in TABLES.items():
        files = sorted((xs_raw / table.system / table.name).glob("load_date=*/*.parquet"))
        assert files, f"{key} has no files"
        names = pq.read_schema(files[0]).names
        assert names == [*table.column_names, "_loaded_at"], f"{key}: {names}"


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


def test_a_world_in_shards_is_one_world(tmp_path, monkeypatch):
    """Scale l is simulated and written 100,000 people at a time (flat memory). Shrunk to 300 people a shard,
    xs becomes 4 shards: each load folder holds one file, ids stay unique across shards, the shared tables
    (catalogue, surveys) are written once, and the same seed gives the same world. Whether a table's rows
    are held across shards (xs: all four, one row group) or written shard by shard (a row group per shard
    that has rows), every file holds the same rows in the same order."""
    monkeypatch.setattr(world, "SHARD_PERSONS", 300)  # its one home, read at call time
    a, b = tmp_path / "a", tmp_path / "b"
    res = generate(a, scale="xs", seed=5, days=45)
    monkeypatch.setattr(writer, "LOAD_FILE_BUFFER_ROWS", 0)  # nothing held: written as each shard comes
    generate(b, scale="xs", seed=5, days=45)
    assert _digest(a) == _digest(b)
    files = sorted((a / "web" / "events").glob("load_date=*/*"))
    assert {f.name for f in files} == {"part-0.parquet"}
    assert len(files) == len({f.parent for f in files}) == 45  # one file per load
    assert max(pq.ParquetFile(f).num_row_groups for f in files) == 1  # every shard's rows, held
    # written shard by shard, a busy day's file holds every shard's rows, one row group each
    assert max(pq.ParquetFile(b / f.relative_to(a)).num_row_groups for f in files) == 4
    every_file = sorted(f.relative_to(a) for f in a.rglob("*.parquet") if ".truth" not in f.parts)
    assert every_file == sorted(f.relative_to(b) for f in b.rglob("*.parquet") if ".truth" not in f.parts)
    for f in every_file:
        assert pq.read_table(a / f).equals(pq.read_table(b / f)), f  # rows in the same order
    assert res.rows["commerce.products"] == gen.SCALES["xs"]["products"]
    assert res.rows["survey.surveys"] == len(gen.SURVEYS)
    assert {f.name for f in (a / "commerce" / "products").glob("load_date=*/*")} == {"part-0.parquet"}
    truth = pq.read_table(a / ".truth" / "identities.parquet").to_pandas()
    assert truth["source_id"].is_unique
    people = truth["person_id"].drop_duplicates()
    assert people.str.fullmatch(r"PER-\d{7}").all() and people.max() == "PER-0001000", people.max()
    unique_ids = {
        "web.events": "event_id",
        "survey.responses": "response_id",
        "survey.invitations": "invitation_id",
        "crm.interactions": "interaction_id",
        "commerce.refunds": "refund_id",
        "commerce.customers": "shop_customer_id",
    }
    with duckdb.connect() as con:
        for key, column in unique_ids.items():
            table = TABLES[key]
            rows, distinct = con.execute(
                f"select count(*), count(distinct {column}) from "
                f"read_parquet('{a}/{table.system}/{table.name}/*/*.parquet')"
            ).fetchone()
            assert rows == distinct == res.rows[key], (key, rows, distinct)
        emails = con.execute(
            "select count(distinct lower(trim(email))), count(*) "
            f"from read_parquet('{a}/crm/customers/*/*.parquet') where email is not null"
        ).fetchone()
        assert emails[0] > 0.8 * gen.SCALES["xs"]["persons"], (
            emails
        )  # e-mails are numbered per world, not shard


def test_load_files_hold_a_tables_rows_until_enough_have_gathered(tmp_path):
    """A row group costs Arrow about 1 ms however few rows it holds: a table's rows wait until
    ``buffer_rows`` have gathered, are then written in the order they came, and the rest on close. A later
    shard's all-null column, typed otherwise, takes the first shard's type."""
    files = writer.LoadFiles(buffer_rows=5)
    days = np.array(["2026-01-01", "2026-01-02", "2026-01-01"], dtype="datetime64[D]")
    folder = tmp_path / "t"
    files.add(folder, pa.table({"x": pa.array([0, 1, 2], pa.int64())}), days)
    assert not folder.exists()  # 3 rows held
    files.add(folder, pa.table({"x": pa.array([3, 4, 5], pa.int64())}), days)  # 6 >= 5: written
    files.add(folder, pa.table({"x": pa.array([None, None, None], pa.null())}), days)
    assert len(files) == 2
    files.close()  # the 3 held rows, then the footers
    first = pq.ParquetFile(folder / "load_date=2026-01-01" / "part-0.parquet")
    assert first.num_row_groups == 2
    assert first.read().column("x").to_pylist() == [0, 2, 3, 5, None, None]
    second = pq.read_table(folder / "load_date=2026-01-02" / "part-0.parquet")
    assert second.column("x").to_pylist() == [1, 4, None] and second.schema.field("x").type == pa.int64()
    # a failed generation closes its files without writing what is held
    failed = writer.LoadFiles(buffer_rows=5)
    failed.add(tmp_path / "u", pa.table({"x": pa.array([0, 1, 2], pa.int64())}), days)
    failed.close(write_held=False)
    assert not (tmp_path / "u").exists()


def test_shards_write_their_own_files_when_the_open_file_limit_is_too_low(tmp_path, monkeypatch, caplog):
    """One file per load keeps every load file open until the last shard; where the hard limit cannot be
    raised that far, each shard writes its own part files, and says why; the world is the same."""
    from insight_engine.generator import run as generator_run

    monkeypatch.setattr(world, "SHARD_PERSONS", 300)
    monkeypatch.setattr(generator_run.resource, "getrlimit", lambda _: (256, 512))
    monkeypatch.setattr(
        generator_run.resource, "setrlimit", lambda *_: (_ for _ in ()).throw(ValueError("not allowed"))
    )
    with caplog.at_level("WARNING"):
        generate(tmp_path / "parts", scale="xs", seed=5, days=45)
    assert "open-file limit (256, hard 512)" in caplog.text
    parts = {f.name for f in (tmp_path / "parts" / "web" / "events").glob("load_date=*/*.parquet")}
    assert parts == {"part-0.parquet", "part-1.parquet", "part-2.parquet", "part-3.parquet"}
    monkeypatch.undo()
    monkeypatch.setattr(world, "SHARD_PERSONS", 300)
    generate(tmp_path / "one", scale="xs", seed=5, days=45)
    with duckdb.connect() as con:
        tables = [
            con.execute(
                f"select * from read_parquet('{tmp_path / name}/web/events/*/*.parquet') order by all"
            ).fetchall()
            for name in ("parts", "one")
        ]
    assert tables[0] == tables[1] and len(tables[0]) > 1_000


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


# ------------------------------------------------------------------------------ the writer and its dialects
# Checksums of the iso output (xs, seed 11, 45 days) computed with the generator as it was before dialects
# existed: file layout, Arrow schema and every value. The amounts converted with currency rates (seeds that
# change when the ECB publishes) are hashed as null/not-null only, so a rate update does not break this test.
ISO_CHECKSUMS = {
    0.0: "cbe0ef9c7f3fdf252f54129d3f1c977e8e437fb966bfb645df6e64d13d9a60bc",
    0.02: "0841735f91db8fbec30432f143c004904abaad9bf0a681775c41b5caa16b61cf",
}
FX_CONVERTED = {
    "commerce/order_lines": {"unit_price", "unit_cost"},
    "commerce/orders": {"discount_amount", "shipping_amount"},
    "commerce/refunds": {"amount"},
}
DIALECT_SEED, DIALECT_DAYS, DIALECT_BAD_RATE = 11, 45, 0.02


def _iso_checksum(root: Path) -> str:
    h = hashlib.sha256()
    for f in sorted(root.glob("*/*/load_date=*/*.parquet")):
        rel = f.relative_to(root).as_posix()
        t = pq.ParquetFile(f).read()
        masked = FX_CONVERTED.get(rel.rsplit("/load_date=", 1)[0], set())
        cols = {
            n: ["x" if v is not None else None for v in t.column(n).to_pylist()]
            if n in masked
            else t.column(n).to_pylist()
            for n in t.column_names
        }
        h.update(rel.encode())
        h.update(str(t.schema).encode())
        h.update(repr(cols).encode())
    return h.hexdigest()


@pytest.fixture(scope="module")
def dialects(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("dialects")
    out = {}
    for dialect in gen.DIALECTS:
        out[dialect] = base / dialect
        generate(
            out[dialect],
            scale="xs",
            seed=DIALECT_SEED,
            days=DIALECT_DAYS,
            bad_rate=DIALECT_BAD_RATE,
            dialect=dialect,
        )
    return out


def _manifest(root: Path) -> dict:
    return json.loads((root / "_manifest.json").read_text())


def _parquet(root: Path, key: str) -> pa.Table:
    """A table's files in path order, concatenated (row order as written)."""
    table = TABLES[key]
    files = sorted((root / table.system / table.name).glob("load_date=*/*.parquet"))
    return pa.concat_tables([pq.ParquetFile(f).read() for f in files])


def _csv(root: Path, key: str) -> pd.DataFrame:
    """A CSV table as text, read by DuckDB as an RFC 4180 reader (BOM and gzip as a reader meets them).

    quote and escape are stated: DuckDB sniffs them from the first file of a glob, and a first file without
    an escaped quote would leave the `""` of a later file unreadable.
    """
    table = TABLES[key]
    ext = "csv.gz" if key in gen.CSV_GZIP_TABLES else "csv"
    with duckdb.connect() as con:
        return con.execute(
            f"select * from read_csv('{root}/{table.system}/{table.name}/*/*.{ext}', header = true, "
            "all_varchar = true, quote = '\"', escape = '\"', hive_partitioning = false)"
        ).df()


def _utc(text: pd.Series) -> pd.Series:
    return pd.to_datetime(pd.Series(text, dtype=object), utc=True, format="ISO8601", errors="coerce")


def test_iso_output_is_what_the_generator_wrote_before_dialects(twice, dialects):
    a, _, _ = twice  # seed 11, 45 days, no bad rows
    assert _iso_checksum(a) == ISO_CHECKSUMS[0.0]
    assert _iso_checksum(dialects["iso"]) == ISO_CHECKSUMS[DIALECT_BAD_RATE]
    assert _manifest(dialects["iso"])["source_timezones"] == ""


def test_columns_come_from_the_contract_and_a_missing_one_is_loud(tmp_path):
    assert gen.CONTRACT == {
        system: {t.name: t.column_names for t in TABLES.values() if t.system == system}
        for system in {t.system for t in TABLES.values()}
    }
    table = TABLES["commerce.products"]
    frame = pd.DataFrame({c: ["x"] for c in table.column_names if c != "unit_cost"} | {"_t": [0]})
    with pytest.raises(gen.ContractMismatch, match=r"commerce\.products.*unit_cost"):
        gen._write_table(frame, table, tmp_path / "products", "iso", gen.DEFAULT_END_DATE)
    assert not (tmp_path / "products").exists()


def test_every_dialect_holds_the_same_world(dialects):
    iso = _manifest(dialects["iso"])
    for dialect in ("naive", "native", "csv"):
        m = _manifest(dialects[dialect])
        assert m["rows"] == iso["rows"], dialect
        assert m["bad_rows"] == iso["bad_rows"], dialect
    for key in TABLES:
        pk = gen.KEYS[key][0]
        ids = sorted(map(str, _parquet(dialects["iso"], key).column(pk).to_pylist()))
        assert sorted(map(str, _parquet(dialects["naive"], key).column(pk).to_pylist())) == ids, key
        native = [
            None if v is None else str(v) for v in _parquet(dialects["native"], key).column(pk).to_pylist()
        ]
        assert sorted(map(str, native)) == ids, key
        csv = [None if pd.isna(v) else v for v in _csv(dialects["csv"], key)[pk]]
        assert sorted(map(str, csv)) == ids, key


def test_naive_text_is_wall_clock_time_in_the_declared_zone():
    text = gen.naive_text(
        pd.Series(["2026-03-01T12:00:00+03:30", "not a date", None, "2026-03-01T12:00:00Z"]), "Asia/Tehran"
    )
    assert list(text) == ["2026-03-01 12:00:00", "not a date", None, "2026-03-01T15:30:00.000000"]


def test_naive_dialect_reads_back_as_the_same_utc_instants(dialects):
    zones = contract.timezone_overrides(_manifest(dialects["naive"])["source_timezones"])
    assert set(zones) == {t.system for t in TABLES.values()}
    forms = set()
    for key, table in TABLES.items():
        iso, naive = _parquet(dialects["iso"], key), _parquet(dialects["naive"], key)
        assert naive.column_names == iso.column_names, key
        for column in table.of_family("timestamp"):
            want = pd.Series(iso.column(column).to_pylist(), dtype=object)
            got = pd.Series(naive.column(column).to_pylist(), dtype=object)
            offset = got.dropna().str.contains(r"(?:Z|[+-]\d\d:?\d\d)$")
            assert not offset.any(), f"{key}.{column} has offsets"
            local = pd.to_datetime(got, format="ISO8601", errors="coerce")
            read = local.dt.tz_localize(zones[table.system]).dt.tz_convert("UTC")
            instants = _utc(want)
            ok = instants.notna()
            assert (read[ok] == instants[ok]).all(), f"{key}.{column}: naive text is not the same instant"
            assert (got[~ok].isna() == want[~ok].isna()).all(), key
            assert (got[~ok].dropna() == want[~ok].dropna()).all(), f"{key}.{column}: planted text changed"
            forms |= {"space" if " " in v else "T" for v in got[ok]}
    assert forms == {"space", "T"}


def test_native_dialect_uses_parquet_types_and_keeps_the_values(dialects):
    m = _manifest(dialects["native"])
    zones = contract.timezone_overrides(m["source_timezones"])
    assert zones == {"crm": "Europe/Istanbul"}
    for key, table in TABLES.items():
        iso, native = _parquet(dialects["iso"], key), _parquet(dialects["native"], key)
        schema = native.schema
        assert schema.field("_loaded_at").type == pa.timestamp("us", tz="UTC")
        for column in table.columns:
            typ = schema.field(column.name).type
            values, want = native.column(column.name).to_pylist(), iso.column(column.name).to_pylist()
            if column.family == "timestamp":
                zone = zones.get(table.system)
                assert typ == (pa.timestamp("us") if zone else pa.timestamp("us", tz="UTC")), (key, column)
                got = pd.to_datetime(pd.Series(values, dtype=object))
                got = got.dt.tz_localize(zone) if zone else got
                instants = _utc(pd.Series(want, dtype=object))
                planted = pd.Series(want).notna() & instants.isna()
                assert (got.dt.tz_convert("UTC")[~planted].dropna() == instants[~planted].dropna()).all(), (
                    column
                )
                assert got[planted].isna().all()
                if column.name == gen.KEYS[key][1]:
                    assert int(planted.sum()) == m["bad_rows"][key]["unparseable_timestamp"], key
            elif column.family == "date":
                assert typ == pa.date32()
                assert [None if v is None else v.isoformat() for v in values] == want
            elif column.family == "integer":
                assert typ == pa.int32() and values == want, (key, column.name)
            elif column.family == "number" and gen._is_amount(column.name):
                assert typ == pa.decimal128(18, 2), (key, column.name)
                assert [None if v is None else float(v) for v in values] == want, (key, column.name)
            elif column.name == "order_line_id":
                assert typ == pa.int64()
                assert [None if v is None else str(v) for v in values] == want
            else:
                assert values == want, (key, column.name)


def test_csv_round_trips_through_duckdb_with_every_value_intact(dialects):
    root = dialects["csv"]
    assert not list(root.glob("*/*/*/*.parquet"))
    for key, table in TABLES.items():
        iso, csv = _parquet(dialects["iso"], key), _csv(root, key)
        assert list(csv.columns) == [*table.column_names, "_loaded_at"], key
        assert len(csv) == iso.num_rows, key
        for column in table.columns:
            want, got = iso.column(column.name).to_pylist(), csv[column.name].tolist()
            got = [None if pd.isna(v) else v for v in got]
            if column.family == "number":
                got = [None if v is None else float(v) for v in got]
            elif column.family == "integer":
                got = [None if v is None else int(v) for v in got]
            elif column.family == "boolean":
                got = [None if v is None else {"true": True, "false": False}[v] for v in got]
            else:  # '' is null in a CSV landing file
                want = [None if v == "" else v for v in want]
            assert got == want, (key, column.name)
        loaded = [v.strftime("%Y-%m-%d %H:%M:%S") for v in iso.column("_loaded_at").to_pylist()]
        assert csv["_loaded_at"].tolist() == loaded, key
    texts = [t for t in _csv(root, "survey.answers")["answer_text"].dropna()]
    assert any("\n" in t for t in texts) and any('"' in t for t in texts)
    assert any("\u0600" <= ch <= "\u06ff" for t in texts for ch in t) and any("👍" in t for t in texts)
    for key, table in TABLES.items():
        for f in (root / table.system / table.name).glob("load_date=*/part-0.*"):
            data = f.read_bytes()
            if key in gen.CSV_GZIP_TABLES:
                assert f.name == "part-0.csv.gz" and data[:2] == b"\x1f\x8b"
                data = gzip.decompress(data)
            else:
                assert f.name == "part-0.csv"
            assert data.startswith(gen.UTF8_BOM) == (key in gen.CSV_BOM_TABLES), f
            assert data.removeprefix(gen.UTF8_BOM).startswith(f'"{table.column_names[0]}"'.encode()), f


def test_sparse_is_a_small_shops_one_load_backfill(dialects):
    root, m = dialects["sparse"], _manifest(dialects["sparse"])
    assert not (root / "web" / "events").exists() and not (root / "crm" / "cases").exists()
    assert set(m["rows"]) == set(TABLES) - gen.SPARSE_ABSENT_TABLES
    for key in m["rows"]:
        table = TABLES[key]
        folders = [p.name for p in (root / table.system / table.name).iterdir()]
        assert folders == [f"load_date={m['end_date']}"], key
        names = pq.read_schema(next((root / table.system / table.name).glob("*/*.parquet"))).names
        assert names == [c for c in table.column_names if c not in gen.SPARSE_ABSENT_COLUMNS], key
        assert len(pq.read_table(root / table.system / table.name)) == m["rows"][key], key
    questions = _parquet(root, "survey.questions").to_pandas()
    assert set(questions["metric"]) == {"csat", "open_text"}
    answered = set(_parquet(root, "survey.answers").column("question_id").drop_null().to_pylist())
    assert answered <= set(questions["question_id"].dropna())
    assert _parquet(root, "crm.interactions").column("case_id").null_count == m["rows"]["crm.interactions"]
    # the same world: every order, once (its latest version), plus the planted copies
    iso_orders = _parquet(dialects["iso"], "commerce.orders").to_pandas()
    orders = _parquet(root, "commerce.orders").to_pandas()
    assert set(orders["order_id"].dropna()) == set(iso_orders["order_id"].dropna())
    # every planted copy but a null id repeats an order id; each order's clean rows are one version
    assert len(orders) == iso_orders["order_id"].nunique() + sum(m["bad_rows"]["commerce.orders"].values())
    assert all(n >= 0 for kinds in m["bad_rows"].values() for n in kinds.values())


def test_cli_generates_a_dialect(tmp_path):
    out = tmp_path / "raw"
    res = CliRunner().invoke(main, ["generate", "--days", "30", "--dialect", "naive", "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "SOURCE_TIMEZONES=commerce=America/Sao_Paulo" in res.output
    assert _manifest(out)["dialect"] == "naive"
    res = CliRunner().invoke(main, ["generate", "--dialect", "excel", "--out", str(out)])
    assert res.exit_code == 2 and "excel" in res.output


# ------------------------------------------------------------------ survey programmes (--survey-metrics)
PROGRAMME_SEED, PROGRAMME_DAYS = 5, 45


@pytest.fixture(scope="module")
def programmes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One world asked by three programmes: every metric, CSAT only and CES only (2% bad rows)."""
    base = tmp_path_factory.mktemp("programmes")
    out = {}
    for name, metrics in {"all": None, "csat": ("csat",), "ces": ["ces"]}.items():
        out[name] = base / name
        generate(
            out[name],
            scale="xs",
            seed=PROGRAMME_SEED,
            days=PROGRAMME_DAYS,
            bad_rate=DIALECT_BAD_RATE,
            survey_metrics=metrics,
        )
    return out


def _clean_answers(root: Path) -> pd.DataFrame:
    """The answers with their question's metric, without the planted bad rows (copies of good rows with
    a null question, an orphan response, a score off the scale, or exact duplicates)."""
    answers = _parquet(root, "survey.answers").to_pandas().drop(columns="_loaded_at")
    questions = _parquet(root, "survey.questions").to_pandas()[["question_id", "metric"]].drop_duplicates()
    answers = answers.merge(questions.dropna(), on="question_id").drop_duplicates()
    planted = answers["response_id"].str.startswith("ORPHAN") | ~answers["answer_numeric"].between(0, 10)
    return answers[~planted]


@pytest.mark.parametrize("metric", ["csat", "ces"])
def test_a_one_metric_programme_asks_only_that_rating_question(programmes, metric):
    root, m = programmes[metric], _manifest(programmes[metric])
    assert m["survey_metrics"] == [metric]
    questions = _parquet(root, "survey.questions").to_pandas()
    assert set(questions["metric"]) == {metric, "other", "open_text"}
    # the comment and 'other' questions are asked as in the full programme, under the same ids (the
    # planted bad rows differ: they are copies of what is written)
    full = _parquet(programmes["all"], "survey.questions").to_pandas()
    kept = full[full["metric"].isin({metric, "other", "open_text"})]

    def clean(df: pd.DataFrame) -> pd.DataFrame:
        return (
            df.dropna(subset=["question_id"]).drop_duplicates().sort_values("question_id", ignore_index=True)
        )

    pd.testing.assert_frame_equal(clean(questions), clean(kept))
    answered = set(_parquet(root, "survey.answers").column("question_id").drop_null().to_pylist())
    assert answered <= set(questions["question_id"])
    # the same world: the same responses, and the metric's answers are the full programme's
    assert _digest_one(root, "survey.responses") == _digest_one(programmes["all"], "survey.responses")
    cols = ["response_id", "question_id", "answer_numeric"]
    mine = _clean_answers(root)
    theirs = _clean_answers(programmes["all"])
    pick = theirs[theirs["metric"] == metric][cols].sort_values(cols).reset_index(drop=True)
    assert mine[mine["metric"] == metric][cols].sort_values(cols).reset_index(drop=True).equals(pick)
    assert sum(m["bad_rows"]["survey.answers"].values()) > 0


def _digest_one(root: Path, key: str) -> str:
    rows = _parquet(root, key).drop(["_loaded_at"]).to_pandas().sort_values("response_id")
    return hashlib.sha256(rows.to_csv(index=False).encode()).hexdigest()


def test_a_programme_without_nps_follows_up_its_dissatisfied_answers(programmes):
    """Without NPS the CX team calls back dissatisfied CSAT answers: follow-ups still happen."""
    for name in ("all", "csat", "ces"):
        it = _parquet(programmes[name], "crm.interactions").to_pandas()
        assert (it["purpose"] == "follow_up").sum() > 0, name


def test_the_default_programme_is_every_metric(programmes):
    assert _manifest(programmes["all"])["survey_metrics"] == list(gen.SURVEY_METRICS)
    questions = _parquet(programmes["all"], "survey.questions").to_pandas()
    assert set(questions["metric"]) == {*gen.SURVEY_METRICS, "other", "open_text"}


@pytest.mark.parametrize(
    ("metrics", "message"),
    [
        (("csat", "cssat"), "unknown survey metric(s) 'cssat'"),
        ((), "needs at least one of nps, csat, ces"),
        (("open_text",), "unknown survey metric(s) 'open_text'"),
    ],
)
def test_survey_metrics_are_checked(tmp_path, metrics, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        generate(tmp_path / "raw", survey_metrics=metrics)
    assert not (tmp_path / "raw").exists()


def test_a_dip_must_hit_a_metric_the_programme_asks(tmp_path):
    with pytest.raises(ValueError, match="asks none of the metrics the dip lowers"):
        generate(tmp_path / "raw", survey_metrics=("ces",), nps_dip=("TP-DELIVERY", 10, 4.0))


def test_without_nps_the_dip_lowers_csat(tmp_path):
    """The planted dip lowers CSAT only in a programme without NPS (with NPS it is NPS and CES, as before)."""
    dip = ("TP-DELIVERY", 20, 4.0)
    csat = {}
    for name, metrics in {"plain": ("csat",), "dipped": ("csat",), "with_nps": None}.items():
        root = tmp_path / name
        generate(
            root,
            scale="xs",
            seed=PROGRAMME_SEED,
            days=PROGRAMME_DAYS,
            survey_metrics=metrics,
            nps_dip=None if name == "plain" else dip,
        )
        answers = _clean_answers(root)
        answers = answers[
            (answers["metric"] == "csat") & answers["question_id"].str.startswith("SRV-DELIVERY")
        ]
        csat[name] = answers.set_index("response_id")["answer_numeric"]
    assert _manifest(tmp_path / "dipped")["nps_dip"] == list(dip)
    lowered = csat["dipped"] < csat["plain"]
    assert lowered.sum() > 0
    assert (csat["dipped"] <= csat["plain"]).all()
    assert ((csat["plain"] - csat["dipped"])[lowered] <= 2).all()  # 4 / 2.5 = 1.6, rounded
    assert csat["with_nps"].sort_index().equals(csat["plain"].sort_index())


def test_cli_generates_a_programme(tmp_path):
    out = tmp_path / "raw"
    res = CliRunner().invoke(
        main, ["generate", "--days", "30", "--survey-metrics", "csat, ces", "--out", str(out)]
    )
    assert res.exit_code == 0, res.output
    assert _manifest(out)["survey_metrics"] == ["csat", "ces"]
    res = CliRunner().invoke(main, ["generate", "--survey-metrics", "nps,effort", "--out", str(out)])
    assert res.exit_code == 2 and "unknown survey metric(s) 'effort'" in res.output


def test_text_helpers_write_what_a_person_would_by_hand() -> None:
    """The Arrow-built text (ids, ISO timestamps with offsets, phones) against values written out by hand."""
    # 2024-02-29 23:59:59 UTC; Istanbul +03:00, Tehran +03:30, Sao Paulo -03:00, UTC 'Z'
    ts = np.array([1709251199] * 4)
    stamps = list(world.iso(ts, np.array([180, 210, -180, 0])))
    assert stamps == [
        "2024-03-01T02:59:59+03:00",
        "2024-03-01T03:29:59+03:30",
        "2024-02-29T20:59:59-03:00",
        "2024-02-29T23:59:59Z",
    ]
    assert list(world.iso(np.array([], dtype=int), np.array([], dtype=int))) == []
    assert list(world.numbered_ids("EV-", 3, start=99, width=4)) == ["EV-0099", "EV-0100", "EV-0101"]
    assert list(world.numbered_ids("A-", 1, start=12345, width=3)) == ["A-12345"]  # padded, never cut
    styles = set(
        world.phone_variant(
            np.array(["90"] * 200), np.array(["5321234567"] * 200), np.random.default_rng(0), True
        )
    )
    assert styles == {"+90 (532) 123 45 67", "00905321234567", "+90-5321234567", "0532 123 4567"}


def test_the_generator_allocates_from_jemalloc_and_gives_the_pool_back():
    """mimalloc (pyarrow's default) hands freed pages back and the kernel zeroes them again for the next
    shard; the generator uses jemalloc where pyarrow has it, and leaves the process's pool as it found it."""
    from insight_engine.generator.run import _arrow_memory_pool

    before = pa.default_memory_pool().backend_name
    with _arrow_memory_pool():
        inside = pa.default_memory_pool().backend_name
    assert pa.default_memory_pool().backend_name == before
    try:
        pa.jemalloc_memory_pool()
    except NotImplementedError:
        assert inside == before
    else:
        assert inside == "jemalloc"
