"""Score the labelled sentiment samples of tests/fixtures/sentiment through the warehouse's own scoring.

The samples become comments of a tiny DuckDB warehouse: ``intermediate.int_verbatims_masked`` (the
comments, with their language) and ``core.fct_survey_responses`` (one placeholder response each) are
written directly, then dbt seeds the lexicon seeds and runs the real ``int_verbatim_tokens_scored`` and
``fct_feedback_verbatims`` models over them. So the tokeniser, lexicon matching, negation, intensifiers,
the score and the negative / neutral / positive label are exactly the SQL the warehouse runs; only the
staging of survey exports is skipped (the samples are not survey exports).

Gold labels: a review's own rating. Olist (pt): 1-2 stars negative, 3 neutral, 4-5 positive. VADER's
snippets (en): the mean of 10 human ratings on -4..4; at most -0.5 negative, at least 0.5 positive,
neutral between (the raters' "no clear leaning"). ParsiNLU (fa): the annotators' overall label, -2/-1
negative, 1/2 positive, 3 (mixed) neutral; for correlations mixed counts as 0.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

from insight_engine.dbt import run_dbt

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "sentiment"
SEEDS = "sentiment_lexicon sentiment_negators sentiment_intensifiers"
MODELS = "int_verbatim_tokens_scored int_verbatim_terms_summarised fct_feedback_verbatims"
EN_NEUTRAL_BAND = 0.5  # |mean human rating| below this (of -4..4) is neutral
PARSINLU_MIXED = 3  # ParsiNLU's label for a review both positive and negative


@dataclass(frozen=True)
class Sample:
    language_code: str
    source: str
    frame: pd.DataFrame  # response_id, comment_text, rating, gold


def _gold_stars(stars: int) -> str:
    return "negative" if stars <= 2 else "positive" if stars >= 4 else "neutral"


def _gold_parsinlu(label: int) -> str:
    return "negative" if label < 0 else "positive" if label in (1, 2) else "neutral"


def _gold_mean(mean: float) -> str:
    return "negative" if mean <= -EN_NEUTRAL_BAND else "positive" if mean >= EN_NEUTRAL_BAND else "neutral"


def load_samples() -> list[Sample]:
    samples = []
    with (FIXTURES / "pt_olist_reviews.csv").open(encoding="utf-8", newline="") as f:
        rows = [
            (f"pt-{r['review_id']}", r["review_comment_message"], int(r["review_score"]), r["split"])
            for r in csv.DictReader(f)
        ]
    pt = pd.DataFrame(rows, columns=["response_id", "comment_text", "rating", "split"])
    pt["gold"] = pt["rating"].map(_gold_stars)
    samples.append(Sample("pt", "Olist order reviews (1-5 stars)", pt))
    with (FIXTURES / "en_vader_amazon_snippets.tsv").open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE)
        rows = [(f"en-{r['snippet_id']}", r["text"], float(r["mean_rating"]), r["split"]) for r in reader]
    en = pd.DataFrame(rows, columns=["response_id", "comment_text", "rating", "split"])
    en["gold"] = en["rating"].map(_gold_mean)
    samples.append(Sample("en", "VADER Amazon review snippets (mean of 10 raters, -4..4)", en))
    with (FIXTURES / "fa_parsinlu_food_reviews.csv").open(encoding="utf-8", newline="") as f:
        rows = [(f"fa-{r['line']}", r["review"], int(r["sentiment"]), r["split"]) for r in csv.DictReader(f)]
    fa = pd.DataFrame(rows, columns=["response_id", "comment_text", "label", "split"])
    fa["gold"] = fa["label"].map(_gold_parsinlu)
    fa["rating"] = fa["label"].where(fa["label"] != PARSINLU_MIXED, 0)  # mixed sits between - and +
    samples.append(
        Sample("fa", "ParsiNLU Digikala food reviews (-2..2, 3 = mixed)", fa.drop(columns="label"))
    )
    return samples


def score_samples(samples: list[Sample], work: Path) -> pd.DataFrame:
    """The samples scored by dbt: one row per comment with language_code, rating, gold, sentiment_score,
    sentiment_label, n_sentiment_terms."""
    warehouse = work / "sentiment_eval.duckdb"
    raw = work / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    comments = pd.concat([s.frame.assign(language_code=s.language_code) for s in samples], ignore_index=True)
    with duckdb.connect(str(warehouse)) as con:
        con.register("comments", comments)
        con.execute("create schema if not exists intermediate")
        con.execute("create schema if not exists core")
        con.execute(
            """create or replace table intermediate.int_verbatims_masked as
            select response_id, 'Q-TEXT' as question_id, language_code, comment_text from comments"""
        )
        con.execute(
            """create or replace table core.fct_survey_responses as
            select response_id, cast(null as varchar) as customer_key, 'S' as survey_id,
                'T' as touchpoint_id, 'unmapped' as journey_stage, cast(null as varchar) as nps_group,
                cast(null as varchar) as csat_band, cast(null as varchar) as ces_band,
                cast(null as integer) as nps_score, cast(null as integer) as csat_score,
                cast(null as integer) as ces_score, date '2024-01-01' as submitted_date,
                timestamp '2024-01-01 00:00:00' as submitted_at
            from comments"""
        )
    for args in (["seed", "--select", SEEDS], ["run", "--select", MODELS]):
        result = run_dbt([*args, "--quiet"], raw_root=raw, warehouse=warehouse, target_path=work / "target")
        assert result.success, f"dbt {args[0]} failed: {result.failures}"
    with duckdb.connect(str(warehouse), read_only=True) as con:
        scored = con.execute(
            "select response_id, sentiment_score, sentiment_label, n_sentiment_terms"
            " from rox.fct_feedback_verbatims"
        ).df()
    return comments.merge(scored, on="response_id", how="left", validate="one_to_one")


def metrics(scored: pd.DataFrame, by: tuple[str, ...] = ("language_code",)) -> pd.DataFrame:
    """Per language (or per ``by`` columns, e.g. language and split): n, precision and recall of the
    negative and positive labels against the gold labels, Pearson and Spearman correlation of the score
    with the rating, and the share of the lowest-rated reviews (1 star; en: mean <= -2) labelled
    negative."""
    out = []
    for key, g in scored.groupby(list(by), sort=True):
        language_code = g["language_code"].iloc[0]
        row: dict[str, float | int | str] = dict(zip(by, key, strict=True))
        row["n"] = len(g)
        for label in ("negative", "positive"):
            predicted = g["sentiment_label"] == label
            actual = g["gold"] == label
            tp = int((predicted & actual).sum())
            row[f"{label[:3]}_precision"] = tp / predicted.sum() if predicted.sum() else float("nan")
            row[f"{label[:3]}_recall"] = tp / actual.sum() if actual.sum() else float("nan")
        row["pearson"] = g["sentiment_score"].corr(g["rating"], method="pearson")
        row["spearman"] = g["sentiment_score"].corr(g["rating"], method="spearman")
        lowest = g[g["rating"] <= 1] if language_code == "pt" else g[g["rating"] <= -2]  # en, fa: <= -2
        row["lowest_n"] = len(lowest)
        row["lowest_negative_share"] = (
            float((lowest["sentiment_label"] == "negative").mean()) if len(lowest) else float("nan")
        )
        out.append(row)
    return pd.DataFrame(out).set_index(list(by))


def format_table(table: pd.DataFrame) -> str:
    return table.to_string(float_format=lambda v: f"{v:.3f}")
