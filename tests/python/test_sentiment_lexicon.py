"""The sentiment lexicon holds on real, human-labelled text, and the seeds are what the generator writes.

The labelled samples (tests/fixtures/sentiment/README.md: Olist order reviews for pt, VADER's Amazon
review snippets for en, ParsiNLU Digikala food reviews for fa) are scored by the warehouse's own models
(sentiment_eval.py). Floors are the measured values (DECISIONLOG.md, "Sentiment lexicons from published
sources") less a margin of about 0.05, so a lexicon or scoring change that loses ground fails here. tr
has no labelled sample yet (no openly licensed one was found).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import sentiment_eval

from insight_engine import lexicon

# language -> (neg precision, neg recall, pos precision, pos recall, Spearman): measured minus ~0.05
FLOORS = {
    "en": (0.85, 0.31, 0.57, 0.69, 0.56),
    "pt": (0.69, 0.64, 0.86, 0.69, 0.60),
    "fa": (0.86, 0.19, 0.76, 0.57, 0.57),  # the hand-written overlay only: low negative recall
}
PT_ONE_STAR_NEGATIVE_MIN = 0.60  # measured 0.69; the complaint was about a quarter


@pytest.fixture(scope="module")
def scored(tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    return sentiment_eval.score_samples(sentiment_eval.load_samples(), tmp_path_factory.mktemp("sentiment"))


def test_generated_seeds_match_the_generator(tmp_path: Path) -> None:
    """seeds/sentiment_lexicon.csv and sentiment_intensifiers.csv are never edited by hand: they are
    exactly what `make refresh-lexicon` writes from the pinned packages and the overlay."""
    lexicon_out, intensifiers_out = tmp_path / "lexicon.csv", tmp_path / "intensifiers.csv"
    lexicon.main([str(lexicon_out), str(intensifiers_out)])
    assert lexicon_out.read_text(encoding="utf-8") == lexicon.LEXICON_SEED.read_text(encoding="utf-8"), (
        "seeds/sentiment_lexicon.csv differs from the generator: run `make refresh-lexicon`"
    )
    assert intensifiers_out.read_text(encoding="utf-8") == lexicon.INTENSIFIER_SEED.read_text(
        encoding="utf-8"
    ), "seeds/sentiment_intensifiers.csv differs from the generator: run `make refresh-lexicon`"


def test_tokeniser_form_of_published_terms() -> None:
    assert lexicon.tokeniser_form("Can't stand", "en") == "cant stand"
    assert lexicon.tokeniser_form("well-made", "en") == "well made"
    assert lexicon.tokeniser_form(":-)", "en") is None  # emoticons are not tokens
    assert lexicon.tokeniser_form("cut the mustard", "en") is None  # three tokens
    assert lexicon.tokeniser_form("Péssimo", "pt") == "pessimo"  # Portuguese is matched accent-folded
    assert lexicon.tokeniser_form("kötü", "tr") == "kötü"
    assert lexicon.tokeniser_form("قيمت\u200cها", "fa") == "قیمت\u200cها"  # Arabic yeh -> Persian, ZWNJ kept
    assert lexicon.to_weight("3.1") == lexicon.Decimal("0.8")
    assert lexicon.to_weight("-0.2") == lexicon.Decimal("-0.1")  # -0.05 rounds away from zero
    assert lexicon.to_weight("4") == lexicon.Decimal("1.0")


def test_precision_recall_and_correlation_per_language(
    scored: pd.DataFrame, capsys: pytest.CaptureFixture[str]
) -> None:
    table = sentiment_eval.metrics(scored)
    by_split = sentiment_eval.metrics(scored, by=("language_code", "split"))
    with capsys.disabled():  # the numbers belong in every test log, passed or failed
        print("\nsentiment on the labelled samples (all rows):\n" + sentiment_eval.format_table(table))
        print("by split (dev: read while writing the overlay; holdout: not):")
        print(sentiment_eval.format_table(by_split))
    failures = []
    for language, floors in FLOORS.items():
        row = table.loc[language]
        names = ("neg_precision", "neg_recall", "pos_precision", "pos_recall", "spearman")
        for name, floor in zip(names, floors, strict=True):
            if not row[name] >= floor:
                failures.append(f"{language} {name} {row[name]:.3f} < {floor}")
    assert not failures, failures


def test_portuguese_one_star_reviews_are_mostly_negative(scored: pd.DataFrame) -> None:
    pt = scored[scored["language_code"] == "pt"]
    one_star = pt[pt["rating"] == 1]
    share = float((one_star["sentiment_label"] == "negative").mean())
    assert len(one_star) >= 50
    assert share >= PT_ONE_STAR_NEGATIVE_MIN


def test_every_sample_comment_is_scored(scored: pd.DataFrame) -> None:
    assert scored["sentiment_label"].notna().all()
    assert set(scored["language_code"]) == {"en", "fa", "pt"}
