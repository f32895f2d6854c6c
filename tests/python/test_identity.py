"""Identity resolution recovers the generator's true people."""

from __future__ import annotations

import pandas as pd
import pytest


@pytest.fixture(scope="module")
def linked_vs_truth(xs) -> pd.DataFrame:
    truth = pd.read_parquet(xs.raw_root / ".truth" / "identities.parquet")
    linked = pd.DataFrame(
        xs.query("select source_system, source_id, customer_key from intermediate.int_identities_linked"),
        columns=["system", "source_id", "customer_key"],
    )
    return truth.merge(linked, on=["system", "source_id"], how="left")


def _pairs(sizes: pd.Series) -> int:
    return int((sizes * (sizes - 1) // 2).sum())


def test_every_true_identity_that_survived_staging_is_linked(linked_vs_truth):
    assert linked_vs_truth["customer_key"].notna().mean() >= 0.99


def test_merge_precision_and_recall_are_at_least_99_percent(linked_vs_truth):
    df = linked_vs_truth.dropna(subset=["customer_key"])
    together = _pairs(df.groupby(["person_id", "customer_key"]).size())
    predicted = _pairs(df.groupby("customer_key").size())
    actual = _pairs(df.groupby("person_id").size())
    precision, recall = together / predicted, together / actual
    print(f"identity resolution: precision={precision:.4f} recall={recall:.4f} pairs={actual}")
    assert precision >= 0.99
    assert recall >= 0.99


def test_household_phones_do_not_merge_different_people(xs, linked_vs_truth):
    """The generator gives 1% of people the phone of another household member."""
    (shared,) = xs.query("select count(*) from intermediate.int_identity_match_keys where is_ambiguous")[0]
    assert shared > 0
    per_key = linked_vs_truth.dropna(subset=["customer_key"]).groupby("customer_key")["person_id"].nunique()
    assert (per_key == 1).mean() >= 0.99


def test_customer_key_is_not_a_hash_of_an_email(xs):
    rows = xs.query(
        """
        select count(*)
        from intermediate.int_identities_linked as l
        inner join intermediate.int_identities_unioned as u using (identity_id)
        where l.customer_key = md5(u.email) or l.customer_key = md5(u.email_match_key)
        """
    )
    assert rows[0][0] == 0
