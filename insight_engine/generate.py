"""Deterministic synthetic landing-zone generator.

Writes every table of the raw-data contract (``../shared/DESIGN.md`` section 2; its columns, their order
and types come from :mod:`insight_engine.contract`) as hive-partitioned files, one partition per day:
``<out>/<system>/<table>/load_date=YYYY-MM-DD/part-0.parquet``. The world is simulated once; a *dialect*
decides only how it is written (:data:`DIALECTS`): ``iso`` (the default: Parquet, ISO-8601 text with
offsets), ``naive`` (wall-clock text in per-system zones), ``native`` (Parquet TIMESTAMP/DATE/DECIMAL/INT),
``csv`` (RFC 4180 CSV, some gzipped, some with a BOM) and ``sparse`` (a small shop's one-load backfill
without costs, phones, web events, cases or NPS/CES). For one seed every dialect holds the same world.

The data is built to have something true to find:

* one latent person appears in CRM, shop, survey and web with differently formatted e-mails and phones;
* a latent satisfaction drives survey scores *and* later behaviour (promoters buy more, churn less and
  refer more), while late deliveries, refunds and support cases lower the scores of the orders they touch;
* mobile-web checkout has friction: more abandoned checkouts and lower effort scores;
* optionally (``nps_dip``), a planted dip: one touchpoint's NPS and CES answers (CSAT answers in a
  programme without NPS) fall in the last N days, for testing alerts. Without it the data is byte-identical
  to a generation without the option;
* optionally (``survey_metrics``), a programme that asks only some of the rating metrics (NPS, CSAT, CES):
  the same world, with the other metrics' questions and answers never written.

Bad rows (``--bad-rate``) are *added* as corrupted copies of good rows, one defect per row, so the clean
data is identical whatever the bad rate, and the count of every defect kind is written to
``<out>/_manifest.json``. The true person behind every source identity goes to
``<out>/.truth/identities.parquet`` (hidden from the warehouse) so identity resolution can be scored.
"""

from __future__ import annotations

import dataclasses
import gzip
import io
import json
import logging
import shutil
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from insight_engine import contract, fx

log = logging.getLogger(__name__)

DAY = 86_400
HOUR = 3_600

SCALES: dict[str, dict[str, int]] = {
    # persons, default days of history
    "xs": {"persons": 1_000, "days": 120, "products": 40},
    "s": {"persons": 10_000, "days": 540, "products": 300},
    "m": {"persons": 100_000, "days": 730, "products": 1_000},
    "l": {"persons": 1_000_000, "days": 730, "products": 3_000},
}

# Worlds above this many people are simulated and written in shards of this many (one ``part-<n>`` file per
# shard in each load folder), so the generator's memory stays that of one shard (about 4 GB at 100,000 people)
# whatever the scale. Smaller worlds are one shard and exactly what they were before shards existed.
SHARD_PERSONS = 100_000
# tables every shard shares (the catalogue, the survey definitions): simulated alike, written by shard 0 only
SHARED_TABLES = frozenset({"commerce.products", "survey.surveys", "survey.questions"})

DEFAULT_END_DATE = date(2026, 9, 30)

# The columns of every table, their order and their logical types come from the raw-data contract
# (insight_engine.contract, read from the sources' YAML); the generator keeps no column list of its own.
# ``CONTRACT`` (system -> table -> ordered column names) is derived from it on access, for callers that
# only want the names.

# How the same world is written (``generate(dialect=...)``, ``insight-engine generate --dialect``):
DIALECTS: dict[str, str] = {
    "iso": "Parquet, timestamps as ISO-8601 text with the customer's UTC offset (the default)",
    "naive": "Parquet, timestamps as naive wall-clock text in each system's zone (declared in the manifest)",
    "native": "Parquet with native types: TIMESTAMP, DATE, DECIMAL(18,2), INT32, integer line numbers",
    "csv": "CSV (RFC 4180, header, '' = null; .csv.gz for web events; a UTF-8 BOM on some tables)",
    "sparse": "a small shop's backfill: one load, no costs, phones, web events, cases, NPS/CES or _loaded_at",
}
DEFAULT_DIALECT = "iso"
# naive: the zone each system writes its wall-clock times in. None has had daylight saving time since
# 2022, so every wall-clock time of the default window names exactly one instant.
NAIVE_ZONES: dict[str, str] = {
    "commerce": "America/Sao_Paulo",
    "crm": "Europe/Istanbul",
    "survey": "Asia/Tehran",
    "web": "UTC",
}
# native: systems whose TIMESTAMP columns hold naive wall-clock time in this zone (the others: UTC instants)
NATIVE_WALL_CLOCK_ZONES: dict[str, str] = {"crm": "Europe/Istanbul"}
NATIVE_DECIMAL = pa.decimal128(18, 2)
# csv: the largest table is gzipped; the text-heavy ones start with a UTF-8 byte-order mark
CSV_GZIP_TABLES = frozenset({"web.events"})
CSV_BOM_TABLES = frozenset({"survey.questions", "survey.answers", "crm.customers"})
UTF8_BOM = b"\xef\xbb\xbf"
# sparse: what a small shop's export does not have
SPARSE_ABSENT_TABLES = frozenset({"web.events", "crm.cases"})
# sparse: a one-off backfill holds the current version of a re-exported record, not its history
SPARSE_LATEST_VERSION_KEYS: dict[str, str] = {
    "crm.customers": "crm_customer_id",
    "commerce.orders": "order_id",
}
SPARSE_ABSENT_COLUMNS = frozenset({"unit_cost", "phone"})
SPARSE_METRICS = frozenset({"csat", "open_text"})
# The rating metrics a survey programme can ask (generate(survey_metrics=...), --survey-metrics), in the
# order the manifest lists them. The other questions (open_text comments, 'other' ratings) are asked
# whatever the programme.
SURVEY_METRICS: tuple[str, ...] = ("nps", "csat", "ces")
UNRATED_METRICS = frozenset({"other", "open_text"})
# The answers a CX team follows up (the negative bands of seeds/survey_metric_thresholds.csv): highest score
# that asks for a follow-up. A programme with NPS follows up its detractors only, one without NPS the
# dissatisfied CSAT and difficult CES answers it asks.
FOLLOW_UP_MAX_SCORE: dict[str, int] = {"nps": 6, "csat": 2, "ces": 3}

# Primary key and main timestamp of each table: where the generator plants its defects.
KEYS: dict[str, tuple[str, str | None]] = {
    "survey.surveys": ("survey_id", "created_at"),
    "survey.questions": ("question_id", None),
    "survey.invitations": ("invitation_id", "sent_at"),
    "survey.responses": ("response_id", "submitted_at"),
    "survey.answers": ("question_id", None),
    "crm.customers": ("crm_customer_id", "created_at"),
    "crm.cases": ("case_id", "opened_at"),
    "crm.interactions": ("interaction_id", "occurred_at"),
    "commerce.customers": ("shop_customer_id", "created_at"),
    "commerce.products": ("product_id", None),
    "commerce.orders": ("order_id", "ordered_at"),
    "commerce.order_lines": ("order_line_id", None),
    "commerce.refunds": ("refund_id", "refunded_at"),
    "web.events": ("event_id", "occurred_at"),
}

# Defect kinds the generator can plant; the quarantine reason code is the same string.
BAD_KINDS_BY_TABLE: dict[str, list[str]] = {
    key: ["null_id", "duplicate_id"] + (["unparseable_timestamp", "future_timestamp"] if ts else [])
    for key, (_, ts) in KEYS.items()
}
BAD_KINDS_BY_TABLE["survey.answers"] += ["out_of_range_score", "orphan_fk"]
BAD_KINDS_BY_TABLE["commerce.orders"] += ["unknown_currency"]
BAD_KINDS_BY_TABLE["commerce.order_lines"] += ["negative_quantity", "orphan_fk"]

COUNTRIES = {
    # code: (share, calling code, utc offset minutes, currency, language, cities)
    "TR": (0.34, "90", 180, "TRY", "tr-TR", ["Istanbul", "Ankara", "Izmir", "Bursa"]),
    "BR": (0.22, "55", -180, "BRL", "pt-BR", ["Sao Paulo", "Rio de Janeiro", "Recife"]),
    "PT": (0.10, "351", 0, "EUR", "pt-PT", ["Lisboa", "Porto", "Braga"]),
    "IR": (0.10, "98", 210, "USD", "fa-IR", ["Tehran", "Isfahan", "Shiraz"]),
    "US": (0.14, "1", -300, "USD", "en-US", ["New York", "Austin", "Chicago"]),
    "GB": (0.10, "44", 0, "GBP", "en-GB", ["London", "Leeds", "Bristol"]),
}

FIRST_NAMES = {
    "TR": ["Ayşe", "Mehmet", "Elif", "Mustafa", "Zeynep", "Emre", "Fatma", "Can"],
    "BR": ["João", "Maria", "Ana", "Lucas", "Gabriel", "Júlia", "Pedro", "Beatriz"],
    "PT": ["Inês", "Tiago", "Rita", "Duarte", "Marta", "Rui"],
    "IR": ["Sara", "Reza", "Maryam", "Ali", "Niloufar", "Hossein"],
    "US": ["James", "Emily", "Michael", "Olivia", "Daniel", "Sophia"],
    "GB": ["Oliver", "Amelia", "Harry", "Isla", "George", "Ava"],
}
LAST_NAMES = {
    "TR": ["Yılmaz", "Kaya", "Demir", "Şahin", "Çelik", "Öztürk"],
    "BR": ["Silva", "Santos", "Oliveira", "Souza", "Lima", "Costa"],
    "PT": ["Ferreira", "Pereira", "Almeida", "Carvalho", "Gomes"],
    "IR": ["Hosseini", "Ahmadi", "Karimi", "Rezaei", "Moradi"],
    "US": ["Smith", "Johnson", "Brown", "Miller", "Davis"],
    "GB": ["Taylor", "Wilson", "Evans", "Thomas", "Roberts"],
}
ASCII = str.maketrans("ışçöüğıİŞÇÖÜĞãáâéêíóôõúç", "iscougiISCOUGaaaeeiooouc")

SEGMENTS = (["consumer", "smb", "enterprise"], [0.7, 0.22, 0.08])
VERTICALS = (
    ["retail", "hospitality", "technology", "healthcare", "education", "finance"],
    [0.3, 0.15, 0.2, 0.1, 0.1, 0.15],
)
ACQ = (["organic_search", "paid_search", "social", "referral", "store", "partner"], None)
DEVICES = (["desktop", "mobile_web", "ios_app", "android_app"], [0.35, 0.3, 0.18, 0.17])
PRODUCT_CATEGORIES = ["electronics", "home", "fashion", "beauty", "grocery", "sports"]

SURVEYS = [
    # id, name, type, touchpoint, [(metric, min, max, text)]
    (
        "SRV-REL",
        "Relationship NPS",
        "relationship",
        "TP-RELATIONSHIP",
        [
            ("nps", 0, 10, "How likely are you to recommend us to a friend or colleague?"),
            ("open_text", None, None, "What is the main reason for your score?"),
        ],
    ),
    (
        "SRV-PURCHASE",
        "Post-purchase survey",
        "transactional",
        "TP-CHECKOUT",
        [
            ("nps", 0, 10, "How likely are you to recommend our shop?"),
            ("csat", 1, 5, "How satisfied are you with your purchase?"),
            ("ces", 1, 7, "How easy was it to place your order?"),
            ("open_text", None, None, "Anything we could do better?"),
        ],
    ),
    (
        "SRV-DELIVERY",
        "Delivery survey",
        "transactional",
        "TP-DELIVERY",
        [
            ("csat", 1, 5, "How satisfied are you with the delivery?"),
            ("nps", 0, 10, "How likely are you to recommend us after this delivery?"),
            ("open_text", None, None, "Tell us about your delivery."),
        ],
    ),
    (
        "SRV-SUPPORT",
        "Support survey",
        "transactional",
        "TP-SUPPORT",
        [
            ("ces", 1, 7, "How easy was it to get your issue resolved?"),
            ("csat", 1, 5, "How satisfied are you with our support?"),
            ("open_text", None, None, "How could we have helped better?"),
        ],
    ),
    (
        "SRV-WEB",
        "Website intercept",
        "transactional",
        "TP-WEB",
        [
            ("nps", 0, 10, "How likely are you to recommend our website?"),
            ("other", 1, 5, "How did you find the product range?"),
            ("open_text", None, None, "What brought you here today?"),
        ],
    ),
    (
        "SRV-ONBOARD",
        "Onboarding survey",
        "transactional",
        "TP-ONBOARDING",
        [
            ("ces", 1, 7, "How easy was it to get started?"),
            ("csat", 1, 5, "How satisfied are you with your onboarding?"),
        ],
    ),
]

SURVEY_TOUCHPOINTS: dict[str, str] = {sid: tp for sid, _, _, tp, _ in SURVEYS}

# Verbatim fragments: language -> polarity -> theme -> phrases.
VERBATIMS: dict[str, dict[str, list[str]]] = {
    "en": {
        "neg": [
            "The delivery was late again and nobody told me 😡",
            "Too expensive for what you get.",
            'Support kept me waiting for days, "we will call you back" never happened.',
            "The product quality is poor, it broke after a week.",
            "Checkout kept failing on my phone.\nI had to try three times.",
            "Staff in the store were rude.",
        ],
        "neu": ["It was ok.", "Delivery was on time, price is average.", "Nothing special"],
        "pos": [
            "Fast delivery and great quality 👍",
            "Support solved my problem in minutes, thank you!",
            "Great prices and easy checkout.",
            "Friendly staff, I will recommend you to my friends ❤️",
        ],
    },
    "tr": {
        "neg": [
            "Teslimat yine gecikti, çok kötü 😡",
            "Fiyatlar çok pahalı.",
            'Destek ekibi hiç yardımcı olmadı, "arayacağız" dediler ama aramadılar.',
            "Ürün kalitesi berbat, bir haftada bozuldu.",
            "Ödeme sayfası telefonda sürekli hata verdi.\nÜç kez denedim.",
        ],
        "neu": ["Fena değil.", "Teslimat zamanında, fiyat ortalama."],
        "pos": [
            "Hızlı teslimat ve harika kalite 👍",
            "Destek ekibi sorunumu hemen çözdü, teşekkürler!",
            "Fiyatlar uygun, ödeme çok kolay.",
            "Personel çok ilgili, arkadaşlarıma tavsiye ederim ❤️",
        ],
    },
    "fa": {
        "neg": [
            "ارسال دوباره دیر شد و خیلی بد بود 😡",
            "قیمت‌ها خیلی گران است.",
            "پشتیبانی اصلاً کمک نکرد.",
            "کیفیت محصول ضعیف است و بعد از یک هفته خراب شد.",
        ],
        "neu": ["بد نبود.", "معمولی بود."],
        "pos": [
            "ارسال سریع و کیفیت عالی 👍",
            "پشتیبانی مشکل من را سریع حل کرد، ممنون!",
            "قیمت مناسب و پرداخت آسان.",
        ],
    },
    "pt": {
        "neg": [
            "A entrega atrasou de novo, muito ruim 😡",
            "Muito caro pelo que oferece.",
            'O suporte não ajudou, disseram "vamos ligar" e nunca ligaram.',
            "A qualidade do produto é péssima, quebrou em uma semana.",
            "O checkout falhou no celular.\nTentei três vezes.",
        ],
        "neu": ["Foi razoável.", "Entrega no prazo, preço médio."],
        "pos": [
            "Entrega rápida e ótima qualidade 👍",
            "O suporte resolveu meu problema rapidamente, obrigado!",
            "Preços bons e checkout fácil.",
            "Atendimento excelente, vou recomendar ❤️",
        ],
    },
}

UNPARSEABLE = ["not a date", "2025-13-45T25:61:00", "31/02/2025 10:00", "N/A", "yesterday"]


@dataclass(frozen=True)
class Knobs:
    """Planted truths for testing the RoX statistics; the defaults are the standard world, and with them
    the output is byte-identical to a generation without knobs.

    * ``marketplace_penalty``: answers about a marketplace order lose this many NPS points (CSAT
      points / 2.5; effort is untouched): a planted driver of the experience.
    * ``app_for_frequent_buyers``: customers move to the app as they buy: an online order goes through the
      app with probability 0.9 - 0.8 exp(-k / 3), k = the customer's earlier orders (10% on a first order,
      86% on a tenth). The channel itself changes nothing: a confounded per-order driver (app orders go
      with higher later value only because customers with many orders use the app and buy more).
    * ``experience_effect``: the causal effect of experience on later buying. Every order placed after an
      answer is worth ``1 + effect`` times as much when the customer's latest answer before it was a
      promoter experience (NPS 9-10) and ``1 - effect`` times when it was a detractor one (0-6): list
      prices, costs, discounts and refunds scale, shipping does not; order counts do not change.
    * ``churn_by_satisfaction``: how strongly the latent satisfaction lengthens a customer's life (the
      exponent of the mean lifetime; 0 = satisfied and dissatisfied customers churn alike). A trait that
      drives both the answer and later buying is what a difference-in-differences cannot separate from an
      effect of the experience; 0 gives a world where it can.
    """

    marketplace_penalty: float = 0.0
    app_for_frequent_buyers: bool = False
    experience_effect: float = 0.0
    churn_by_satisfaction: float = 0.55

    def check(self) -> None:
        if not 0 <= self.marketplace_penalty <= 10:
            raise ValueError(
                f"marketplace penalty must be in [0, 10] NPS points, got {self.marketplace_penalty}"
            )
        if not 0 <= self.experience_effect < 1:
            raise ValueError(f"experience effect must be a share in [0, 1), got {self.experience_effect}")
        if not 0 <= self.churn_by_satisfaction <= 2:
            raise ValueError(f"churn by satisfaction must be in [0, 2], got {self.churn_by_satisfaction}")


@dataclass
class GenerationResult:
    out: Path
    rows: dict[str, int] = field(default_factory=dict)
    bad: dict[str, dict[str, int]] = field(default_factory=dict)
    seconds: float = 0.0
    dialect: str = DEFAULT_DIALECT
    source_timezones: str = ""

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())


def _choice(rng: np.random.Generator, options: tuple[list[str], list[float] | None], n: int):
    values, p = options
    return np.asarray(values, dtype=object)[rng.choice(len(values), size=n, p=p)]


def _iso(ts: np.ndarray, offset_min: np.ndarray) -> np.ndarray:
    """ISO-8601 strings in local time with the UTC offset; ``ts`` are epoch seconds (UTC)."""
    ts = np.asarray(ts, dtype="int64")
    if ts.size == 0:  # numpy's zfill cannot size an empty array
        return np.array([], dtype=object)
    offset_min = np.asarray(offset_min, dtype="int64")
    local = (ts + offset_min * 60).astype("datetime64[s]")
    body = np.datetime_as_string(local, unit="s").astype(object)
    sign = np.where(offset_min < 0, "-", "+")
    hh = np.abs(offset_min) // 60
    mm = np.abs(offset_min) % 60
    suffix = np.char.add(
        np.char.add(sign.astype(str), np.char.zfill(hh.astype(str), 2)),
        np.char.add(":", np.char.zfill(mm.astype(str), 2)),
    ).astype(object)
    suffix = np.where(offset_min == 0, "Z", suffix)
    return body + suffix


def _ids(prefix: str, n: int, start: int = 1, width: int = 8) -> np.ndarray:
    if n == 0:  # numpy's zfill cannot size an empty array
        return np.array([], dtype=object)
    return np.char.add(prefix, np.char.zfill(np.arange(start, start + n).astype(str), width)).astype(object)


def _epoch(d: date) -> int:
    return int((d - date(1970, 1, 1)).days) * DAY


class _Generator:
    def __init__(
        self,
        scale: str,
        seed: int,
        days: int,
        end_date: date,
        nps_dip: tuple[str, int, float] | None = None,
        survey_metrics: tuple[str, ...] = SURVEY_METRICS,
        knobs: Knobs = Knobs(),
        shard: int = 0,
        id_next: dict[str, int] | None = None,
    ) -> None:
        self.cfg = SCALES[scale]
        persons = self.cfg["persons"]
        self.shards = -(-persons // SHARD_PERSONS)
        self.shard = shard
        self.person_base = shard * SHARD_PERSONS  # this shard's first person, in the whole world
        self.n_persons = min(SHARD_PERSONS, persons - self.person_base)
        # next number of every id prefix, shared by the shards so that ids stay unique in the world
        self.id_next = {} if id_next is None else id_next
        self.knobs = knobs
        self.seed = seed
        self.days = days
        self.end_date = end_date
        self.start_date = end_date - timedelta(days=days - 1)
        self.t0 = _epoch(self.start_date)
        self.t1 = _epoch(end_date) + DAY - 1  # last second of the window
        self.ss = np.random.SeedSequence(seed)
        self.tables: dict[str, pd.DataFrame] = {}
        self.truth: list[pd.DataFrame] = []
        self.nps_dip = nps_dip
        self.survey_metrics = survey_metrics

    def rng(self, name: str) -> np.random.Generator:
        # One independent stream per table: adding a table never changes another's rows.
        key = sum(ord(c) * 31**i for i, c in enumerate(name)) % (2**32)
        if self.shards == 1 or name == "commerce.products":  # the catalogue is the same in every shard
            return np.random.default_rng([self.seed, key])
        return np.random.default_rng([self.seed, key, self.shard])

    def _ids(self, prefix: str, n: int, width: int) -> np.ndarray:
        """``n`` new ids ``<prefix><number>``, numbered on from the ids earlier shards gave out."""
        start = self.id_next.get(prefix, 1)
        self.id_next[prefix] = start + n
        return _ids(prefix, n, start=start, width=width)

    # ------------------------------------------------------------------ people and CRM
    def persons(self) -> None:
        rng = self.rng("persons")
        n = self.n_persons
        codes = list(COUNTRIES)
        country = np.asarray(codes, dtype=object)[
            rng.choice(len(codes), size=n, p=[COUNTRIES[c][0] for c in codes])
        ]
        sat = rng.normal(0.0, 1.0, n)
        created = rng.integers(self.t0 - 400 * DAY, self.t1 - 2 * DAY, n)
        first = np.empty(n, dtype=object)
        last = np.empty(n, dtype=object)
        city = np.empty(n, dtype=object)
        for c in codes:
            m = country == c
            k = int(m.sum())
            first[m] = np.asarray(FIRST_NAMES[c], dtype=object)[rng.integers(0, len(FIRST_NAMES[c]), k)]
            last[m] = np.asarray(LAST_NAMES[c], dtype=object)[rng.integers(0, len(LAST_NAMES[c]), k)]
            cities = COUNTRIES[c][5]
            city[m] = np.asarray(cities, dtype=object)[rng.integers(0, len(cities), k)]
        idx = np.arange(self.person_base, self.person_base + n)  # numbers unique in the whole world
        local = np.array(
            [f"{f}.{lname}".translate(ASCII).lower() for f, lname in zip(first, last, strict=True)],
            dtype=object,
        )
        domains = np.asarray(["example.com", "mail.example.org", "inbox.example.net"], dtype=object)
        email = local + np.char.zfill(idx.astype(str), 6).astype(object) + "@" + domains[idx % 3]
        calling = np.array([COUNTRIES[c][1] for c in country], dtype=object)
        # national significant number: 10 digits, unique per person, family phones shared below
        national = (5_000_000_000 + idx * 7919 % 4_000_000_000 + idx).astype(np.int64)
        family = rng.random(n) < 0.01  # 1% share the phone of the previous person (a household)
        family[0] = False
        national = np.where(family, np.roll(national, 1), national)
        self.p = pd.DataFrame(
            {
                "person_id": self._ids("PER-", n, width=7),
                "country": country,
                "offset": [COUNTRIES[c][2] for c in country],
                "currency": [COUNTRIES[c][3] for c in country],
                "language": [COUNTRIES[c][4] for c in country],
                "first_name": first,
                "last_name": last,
                "city": city,
                "email": email,
                "calling": calling,
                "national": national.astype(str),
                "sat": sat,
                "created": created,
                "segment": _choice(rng, SEGMENTS, n),
                "vertical": _choice(rng, VERTICALS, n),
                "acq": _choice(rng, ACQ, n),
                "gender": _choice(rng, (["female", "male", "other", "unknown"], [0.48, 0.47, 0.02, 0.03]), n),
                "birth": rng.integers(_epoch(date(1950, 1, 1)), _epoch(date(2006, 1, 1)), n),
                "in_crm": rng.random(n) < 0.85,
                "shopper": rng.random(n) < 0.88,
                "two_shop_accounts": rng.random(n) < 0.05,
                "device": _choice(rng, DEVICES, n),
            }
        )
        # lifetime: satisfied people stay longer (churn less)
        life_days = rng.exponential(420.0 * np.exp(self.knobs.churn_by_satisfaction * sat))
        start = np.maximum(created, self.t0)
        self.p["active_from"] = start
        self.p["active_to"] = np.minimum(start + (life_days * DAY).astype(np.int64), self.t1)

    def email_variant(self, emails: np.ndarray, rng: np.random.Generator, style: str) -> np.ndarray:
        emails = np.asarray(emails, dtype=object)
        if style == "crm":  # capitalised with stray spaces
            out = np.array([e.capitalize() for e in emails], dtype=object)
            pad = rng.random(len(out)) < 0.3
            out[pad] = np.char.add(" ", out[pad].astype(str)).astype(object)
            return out
        if style == "survey":
            up = rng.random(len(emails)) < 0.4
            out = emails.copy()
            out[up] = np.char.upper(out[up].astype(str)).astype(object)
            return out
        return emails

    def phone_variant(
        self, calling: np.ndarray, national: np.ndarray, rng: np.random.Generator, national_ok: bool
    ) -> np.ndarray:
        calling = np.asarray(calling, dtype=str)
        national = np.asarray(national, dtype=str)
        digits = np.asarray(national, dtype="U10")
        p1 = np.char.add(
            np.char.add("+", calling),
            np.char.add(" (", np.char.add(np.char.ljust(digits, 3).astype("U3"), ") ")),
        )
        p1 = np.char.add(p1, np.array([d[3:6] + " " + d[6:8] + " " + d[8:] for d in digits]))
        p2 = np.char.add(np.char.add("00", calling), digits)
        p3 = np.char.add(np.char.add("+", calling), np.char.add("-", digits))
        p4 = np.char.add("0", np.array([d[:3] + " " + d[3:6] + " " + d[6:] for d in digits]))
        pick = rng.integers(0, 4 if national_ok else 3, len(digits))
        return np.select([pick == 1, pick == 2, pick == 3], [p2, p3, p4], default=p1).astype(object)

    def crm_customers(self) -> None:
        rng = self.rng("crm.customers")
        p = self.p[self.p.in_crm].copy()
        n = len(p)
        p["crm_customer_id"] = self._ids("CRM-", n, width=7)
        self.p["crm_customer_id"] = None
        self.p.loc[p.index, "crm_customer_id"] = p["crm_customer_id"].to_numpy()
        # referrals: satisfied customers refer more; the referee arrives after the referrer
        referred = rng.random(n) < 0.15
        w = np.exp(1.3 * p["sat"].to_numpy())
        referrer = rng.choice(n, size=n, p=w / w.sum())
        referred &= referrer != np.arange(n)
        ref_id = np.where(referred, p["crm_customer_id"].to_numpy()[referrer], None)
        created = p["created"].to_numpy().copy()
        created = np.where(referred, np.maximum(created, created[referrer] + DAY), created)
        created = np.minimum(created, self.t1 - DAY)
        p["created"] = created
        self.p.loc[p.index, "created"] = created
        birth = p["birth"].to_numpy().astype("datetime64[s]").astype("datetime64[D]").astype(str)
        rows = pd.DataFrame(
            {
                "crm_customer_id": p["crm_customer_id"].to_numpy(),
                "email": self.email_variant(p["email"].to_numpy(), rng, "crm"),
                "phone": self.phone_variant(p["calling"], p["national"], rng, national_ok=True),
                "first_name": p["first_name"].to_numpy(),
                "last_name": p["last_name"].to_numpy(),
                "birth_date": birth.astype(object),
                "gender": p["gender"].to_numpy(),
                "city": p["city"].to_numpy(),
                "country": p["country"].to_numpy(),
                "segment": p["segment"].to_numpy(),
                "industry_vertical": p["vertical"].to_numpy(),
                "acquisition_channel": np.where(referred, "referral", p["acq"].to_numpy()),
                "referred_by_crm_customer_id": ref_id,
                "created_at": _iso(created, p["offset"]),
                "updated_at": _iso(created, p["offset"]),
                "_t": np.maximum(created, self.t0),
            }
        )
        # 12% change later (segment upgrade or move) and are re-exported
        upd = rng.random(n) < 0.12
        later = rows[upd].copy()
        t_upd = later["_t"].to_numpy() + rng.integers(DAY, 200 * DAY, len(later))
        keep = t_upd < self.t1
        later = later[keep]
        t_upd = t_upd[keep]
        later["segment"] = np.where(later["segment"] == "consumer", "smb", later["segment"])
        # a move: the next city of the same country
        later["city"] = [
            COUNTRIES[c][5][(COUNTRIES[c][5].index(city) + 1) % len(COUNTRIES[c][5])]
            for c, city in zip(later["country"], later["city"], strict=True)
        ]
        later["updated_at"] = _iso(t_upd, p.loc[upd]["offset"].to_numpy()[keep])
        later["_t"] = t_upd
        self.put("crm.customers", pd.concat([rows, later], ignore_index=True))
        self.truth.append(
            pd.DataFrame(
                {
                    "system": "crm",
                    "source_id": rows["crm_customer_id"],
                    "person_id": p["person_id"].to_numpy(),
                }
            )
        )

    # ------------------------------------------------------------------ commerce
    def products(self) -> None:
        rng = self.rng("commerce.products")
        n = self.cfg["products"]
        price = np.round(np.exp(rng.normal(3.3, 0.8, n)), 2)
        cat = np.asarray(PRODUCT_CATEGORIES, dtype=object)[rng.integers(0, len(PRODUCT_CATEGORIES), n)]
        self.products_df = pd.DataFrame(
            {
                "product_id": _ids("PRD-", n, width=5),
                "name": np.char.add(
                    np.char.add(cat.astype(str), " item "), np.arange(1, n + 1).astype(str)
                ).astype(object),
                "category": cat,
                "list_price": price,
                "unit_cost": np.round(price * rng.uniform(0.45, 0.75, n), 2),
                "currency": "USD",
                "_t": self.t0,
            }
        )
        self.put("commerce.products", self.products_df)

    def shop_customers(self) -> None:
        rng = self.rng("commerce.customers")
        p = self.p[self.p.shopper]
        n = len(p)
        ids = self._ids("SHP-", n, width=7)
        self.p["shop_id"] = None
        self.p.loc[p.index, "shop_id"] = ids
        created = np.maximum(p["created"].to_numpy(), self.t0 - 30 * DAY)
        a = pd.DataFrame(
            {
                "shop_customer_id": ids,
                "email": self.email_variant(p["email"].to_numpy(), rng, "shop"),
                "phone": self.phone_variant(p["calling"], p["national"], rng, national_ok=False),
                "created_at": _iso(created, p["offset"]),
                "_t": np.maximum(created, self.t0),
            }
        )
        # a second (guest) account: different e-mail alias, same phone -> linked only through the phone
        two = p[p.two_shop_accounts]
        ids2 = self._ids("SHP-G", len(two), width=6)
        self.p["shop_id2"] = None
        self.p.loc[two.index, "shop_id2"] = ids2
        alias = np.array([e.replace("@", "+shop@") for e in two["email"]], dtype=object)
        t2 = np.clip(two["active_from"].to_numpy() + rng.integers(0, 90 * DAY, len(two)), None, self.t1 - DAY)
        b = pd.DataFrame(
            {
                "shop_customer_id": ids2,
                "email": alias,
                "phone": self.phone_variant(two["calling"], two["national"], rng, national_ok=False),
                "created_at": _iso(t2, two["offset"]),
                "_t": t2,
            }
        )
        self.put("commerce.customers", pd.concat([a, b], ignore_index=True))
        self.truth.append(
            pd.DataFrame(
                {
                    "system": "commerce",
                    "source_id": np.concatenate([ids, ids2]),
                    "person_id": np.concatenate([p["person_id"].to_numpy(), two["person_id"].to_numpy()]),
                }
            )
        )

    def orders(self) -> None:
        rng = self.rng("commerce.orders")
        p = self.p[self.p.shopper]
        seg_rate = p["segment"].map({"consumer": 3.0, "smb": 4.5, "enterprise": 6.0}).to_numpy()
        years = (p["active_to"].to_numpy() - p["active_from"].to_numpy()) / (365 * DAY)
        lam = seg_rate * np.exp(0.45 * p["sat"].to_numpy()) * np.clip(years, 0, None)
        k = rng.poisson(lam)
        owner = np.repeat(np.arange(len(p)), k)
        n = len(owner)
        t_from = p["active_from"].to_numpy()[owner]
        t_to = p["active_to"].to_numpy()[owner]
        ordered = t_from + (rng.random(n) * np.maximum(t_to - t_from, 1)).astype(np.int64)
        order_sort = np.argsort(ordered, kind="stable")
        owner, ordered = owner[order_sort], ordered[order_sort]
        pp = p.iloc[owner]
        shop = pp["shop_id"].to_numpy().copy()
        alt = pp["shop_id2"].to_numpy()
        use_alt = (pd.notna(alt)) & (rng.random(n) < 0.3)
        shop[use_alt] = alt[use_alt]
        channel = _choice(rng, (["web", "app", "store", "marketplace"], [0.5, 0.25, 0.15, 0.1]), n)
        if self.knobs.app_for_frequent_buyers:
            earlier_orders = pd.Series(owner).groupby(owner).cumcount().to_numpy()
            channel = self._app_for_frequent_buyers(channel, earlier_orders)
        currency = pp["currency"].to_numpy()
        store = channel == "store"
        late = (rng.random(n) < 0.12) & ~store
        ship_days = rng.uniform(1.0, 3.5, n) + late * rng.uniform(2.5, 9.0, n)
        promised = np.where(store, ordered, ordered + 4 * DAY)
        delivered = np.where(store, ordered, ordered + (ship_days * DAY).astype(np.int64))
        cancelled = (rng.random(n) < 0.04) & ~store
        oid = self._ids("ORD-", n, width=9)
        self.o = pd.DataFrame(
            {
                "order_id": oid,
                "person": pp.index.to_numpy(),
                "shop_customer_id": shop,
                "ordered": ordered,
                "channel": channel,
                "currency": currency,
                "offset": pp["offset"].to_numpy(),
                "late": late & ~cancelled & (delivered <= self.t1),
                "cancelled": cancelled,
                "delivered": np.where(cancelled | (delivered > self.t1), -1, delivered),
                "promised": promised,
                "device": pp["device"].to_numpy(),
            }
        )
        # lines
        rl = self.rng("commerce.order_lines")
        n_lines = np.minimum(1 + rl.poisson(0.9, n), 5)
        line_order = np.repeat(np.arange(n), n_lines)
        line_no = np.concatenate([np.arange(1, m + 1) for m in n_lines]) if n else np.array([], int)
        prod = rl.integers(0, len(self.products_df), len(line_order))
        qty = 1 + rl.poisson(0.35, len(line_order))
        rate = fx.units_per_usd_vec(currency[line_order], ordered[line_order])
        list_usd = self.products_df["list_price"].to_numpy()[prod]
        unit_price = np.round(list_usd * rate * rl.uniform(0.88, 1.0, len(line_order)), 2)
        unit_cost = np.round(self.products_df["unit_cost"].to_numpy()[prod] * rate, 2)
        lines = pd.DataFrame(
            {
                "order_line_id": line_no.astype(str).astype(object),
                "order_id": oid[line_order],
                "product_id": self.products_df["product_id"].to_numpy()[prod],
                "quantity": qty.astype(np.int64),
                "unit_price": unit_price,
                "unit_cost": unit_cost,
                "_t": ordered[line_order],
            }
        )
        gross = np.bincount(line_order, weights=unit_price * qty, minlength=n)
        self.o["gross"] = gross
        disc = np.where(rl.random(n) < 0.3, np.round(gross * rl.uniform(0.05, 0.2, n), 2), 0.0)
        ship = np.where(store, 0.0, np.round(4.99 * fx.units_per_usd_vec(currency, ordered), 2))
        base = pd.DataFrame(
            {
                "order_id": oid,
                "shop_customer_id": shop,
                "ordered_at": _iso(ordered, self.o["offset"]),
                "channel": channel,
                "currency": currency,
                "status": "placed",
                "discount_amount": disc,
                "shipping_amount": ship,
                "promised_delivery_at": _iso(promised, self.o["offset"]),
                "delivered_at": None,
                "_t": ordered,
            }
        )
        # later versions: delivered (or cancelled) re-exported on the day it happened
        d = self.o["delivered"].to_numpy()
        done = (d > 0) & ~store
        v2 = base[done].copy()
        v2["status"] = "delivered"
        v2["delivered_at"] = _iso(d[done], self.o["offset"].to_numpy()[done])
        v2["_t"] = d[done]
        same_day_delivery = (d[done] // DAY) == (ordered[done] // DAY)
        v2["_t"] = np.where(same_day_delivery, v2["_t"] + DAY, v2["_t"])
        v2 = v2[v2["_t"] <= self.t1]
        base.loc[store, "status"] = "delivered"
        base.loc[store, "delivered_at"] = base.loc[store, "ordered_at"]
        shipped = ~store & ~cancelled & (d < 0)
        base.loc[shipped, "status"] = "shipped"
        canc = base[cancelled].copy()
        canc["status"] = "cancelled"
        canc["_t"] = canc["_t"] + DAY
        canc = canc[canc["_t"] <= self.t1]
        self.put("commerce.orders", pd.concat([base, v2, canc], ignore_index=True))
        self.put("commerce.order_lines", lines)
        # refunds: more likely after a late delivery
        rr = self.rng("commerce.refunds")
        delivered_ok = self.o["delivered"].to_numpy() > 0
        p_ref = 0.03 + 0.15 * self.o["late"].to_numpy()
        has_ref = delivered_ok & (rr.random(n) < p_ref)
        ref_orders = np.flatnonzero(has_ref)
        t_ref = self.o["delivered"].to_numpy()[ref_orders] + rr.integers(DAY, 20 * DAY, len(ref_orders))
        ok = t_ref <= self.t1
        ref_orders, t_ref = ref_orders[ok], t_ref[ok]
        first_line = np.searchsorted(line_order, ref_orders)
        whole = rr.random(len(ref_orders)) < 0.3
        line_amt = unit_price[first_line] * qty[first_line]
        amount = np.where(whole, np.round(gross[ref_orders] * 0.5, 2), np.round(line_amt, 2))
        self.o["refunded"] = False
        self.o.loc[ref_orders, "refunded"] = True
        self.put(
            "commerce.refunds",
            pd.DataFrame(
                {
                    "refund_id": self._ids("RF-", len(ref_orders), width=8),
                    "order_id": oid[ref_orders],
                    "order_line_id": np.where(whole, None, line_no[first_line].astype(str)),
                    "refunded_at": _iso(t_ref, self.o["offset"].to_numpy()[ref_orders]),
                    "amount": amount,
                    "reason": np.where(
                        self.o["late"].to_numpy()[ref_orders],
                        "late_delivery",
                        _choice(rr, (["damaged", "not_as_described", "changed_mind"], None), len(ref_orders)),
                    ),
                    "_t": t_ref,
                }
            ),
        )

    def _app_for_frequent_buyers(self, channel: np.ndarray, earlier_orders: np.ndarray) -> np.ndarray:
        """Knob: an online (web/app) order goes through the app with probability 0.9 - 0.8 exp(-k / 3),
        k = the customer's earlier orders; store and marketplace orders keep their channel (a stream of
        random numbers of its own, so nothing else in the world moves)."""
        online = np.isin(channel, ["web", "app"])
        p_app = 0.9 - 0.8 * np.exp(-earlier_orders / 3.0)
        use_app = self.rng("knob.app_channel").random(len(channel)) < p_app
        return np.where(online, np.where(use_app, "app", "web"), channel).astype(object)

    def apply_experience_effect(self) -> None:
        """Knob ``experience_effect``: scale each order placed after an answer by its customer's latest
        answer's experience (promoter 1 + e, detractor 1 - e, passive 1); see :class:`Knobs`."""
        e = self.knobs.experience_effect
        if e == 0:
            return
        meta = self.meta
        answered = pd.DataFrame(
            {"person": meta["person"].to_numpy(), "t": meta["t"].to_numpy(), "nps": self.response_nps}
        ).sort_values("t", kind="stable")
        factor_of = np.where(answered["nps"] >= 9, 1 + e, np.where(answered["nps"] <= 6, 1 - e, 1.0))
        answered = answered.assign(factor=factor_of)
        orders = self.o[["order_id", "person", "ordered"]].sort_values("ordered", kind="stable")
        hit = pd.merge_asof(
            orders,
            answered[["person", "t", "factor"]],
            left_on="ordered",
            right_on="t",
            by="person",
            allow_exact_matches=False,
        )
        factor = dict(zip(hit["order_id"], hit["factor"].fillna(1.0), strict=True))
        self.experience_factor = factor

        def scale(key: str, columns: list[str]) -> None:
            df = self.tables[key]
            f = df["order_id"].map(factor).fillna(1.0).to_numpy()
            for col in columns:
                df[col] = np.round(df[col].to_numpy(dtype=float) * f, 2)

        scale("commerce.order_lines", ["unit_price", "unit_cost"])
        scale("commerce.orders", ["discount_amount"])
        scale("commerce.refunds", ["amount"])

    # ------------------------------------------------------------------ service
    def cases(self) -> None:
        rng = self.rng("crm.cases")
        o = self.o
        crm = self.p["crm_customer_id"].to_numpy()[o["person"].to_numpy()]
        has_crm = pd.notna(crm)
        d = o["delivered"].to_numpy()
        p_case = 0.04 + 0.4 * o["late"].to_numpy() + 0.2 * o["refunded"].to_numpy()
        with_case = has_crm & (d > 0) & (rng.random(len(o)) < p_case)
        idx = np.flatnonzero(with_case)
        n = len(idx)
        opened = d[idx] + rng.integers(HOUR, 3 * DAY, n)
        late = o["late"].to_numpy()[idx]
        first_resp = opened + (rng.lognormal(1.5 + 0.5 * late, 0.8, n) * HOUR).astype(np.int64)
        closed = opened + rng.integers(DAY, 10 * DAY, n) + late * rng.integers(0, 5 * DAY, n)
        ch = _choice(rng, (["phone", "chat", "email"], [0.4, 0.35, 0.25]), n)
        keep = opened <= self.t1
        idx, opened, first_resp, closed, ch, late = (
            idx[keep],
            opened[keep],
            first_resp[keep],
            closed[keep],
            ch[keep],
            late[keep],
        )
        n = len(idx)
        offs = o["offset"].to_numpy()[idx]
        reopen = rng.poisson(0.15 + 0.6 * late)
        cat = np.where(late, "delivery", _choice(rng, (["refund", "product", "billing", "account"], None), n))
        self.case_df = pd.DataFrame(
            {
                "case_id": self._ids("CS-", n, width=8),
                "person": o["person"].to_numpy()[idx],
                "order_idx": idx,
                "opened": opened,
                "closed": np.where(closed <= self.t1, closed, -1),
                "reopen": reopen,
                "channel": ch,
            }
        )
        base = pd.DataFrame(
            {
                "case_id": self.case_df["case_id"],
                "crm_customer_id": crm[idx],
                "order_id": o["order_id"].to_numpy()[idx],
                "opened_at": _iso(opened, offs),
                # the open version is exported the next morning: it knows only an earlier first response
                "first_response_at": np.where(
                    first_resp <= (opened // DAY + 1) * DAY + 2 * HOUR, _iso(first_resp, offs), None
                ),
                "closed_at": None,
                "channel": ch,
                "category": cat,
                "priority": _choice(rng, (["low", "medium", "high"], [0.5, 0.35, 0.15]), n),
                "status": "open",
                "reopen_count": np.zeros(n, dtype=np.int64),
                "touchpoint_id": "TP-SUPPORT",
                "_t": opened,
            }
        )
        done = closed <= self.t1
        v2 = base[done].copy()
        v2["status"] = "closed"
        v2["first_response_at"] = _iso(first_resp[done], offs[done])
        v2["closed_at"] = _iso(closed[done], offs[done])
        v2["reopen_count"] = reopen[done].astype(np.int64)
        v2["_t"] = closed[done]
        self.put("crm.cases", pd.concat([base, v2], ignore_index=True))
        # n_cases per order for survey penalties
        self.o["cases"] = np.bincount(idx, minlength=len(o))

    # ------------------------------------------------------------------ surveys
    def surveys(self) -> None:
        s_rows, q_rows = [], []
        for sid, name, stype, tp, questions in SURVEYS:
            s_rows.append((sid, name, stype, tp, _iso(np.array([self.t0]), np.array([0]))[0], self.t0))
            for i, (metric, lo, hi, text) in enumerate(questions, start=1):
                q_rows.append((f"{sid}-Q{i}", sid, metric, lo, hi, text, self.t0))
        self.put(
            "survey.surveys",
            pd.DataFrame(
                s_rows, columns=["survey_id", "name", "survey_type", "touchpoint_id", "created_at", "_t"]
            ),
        )
        q = pd.DataFrame(
            q_rows,
            columns=["question_id", "survey_id", "metric", "scale_min", "scale_max", "question_text", "_t"],
        )
        q["scale_min"] = q["scale_min"].astype("Int64")
        q["scale_max"] = q["scale_max"].astype("Int64")
        self.questions = q
        self.put("survey.questions", q)

    def invitations_responses_answers(self) -> None:
        rng = self.rng("survey.invitations")
        o, p = self.o, self.p
        inv_parts: list[pd.DataFrame] = []

        def invite(survey: str, person: np.ndarray, sent: np.ndarray, order_idx: np.ndarray, channel):
            inv_parts.append(
                pd.DataFrame(
                    {
                        "survey": survey,
                        "person": person,
                        "sent": sent,
                        "order_idx": order_idx,
                        "channel": channel,
                    }
                )
            )

        d = o["delivered"].to_numpy()
        ok = d > 0
        m = ok & (rng.random(len(o)) < 0.45)
        invite(
            "SRV-PURCHASE",
            o["person"].to_numpy()[m],
            d[m] + DAY,
            np.flatnonzero(m),
            _choice(rng, (["email", "sms", "app"], [0.6, 0.25, 0.15]), int(m.sum())),
        )
        m = ok & ~m & (rng.random(len(o)) < 0.3)
        invite(
            "SRV-DELIVERY",
            o["person"].to_numpy()[m],
            d[m] + 2 * HOUR,
            np.flatnonzero(m),
            _choice(rng, (["sms", "email"], [0.7, 0.3]), int(m.sum())),
        )
        c = self.case_df
        m = (c["closed"].to_numpy() > 0) & (rng.random(len(c)) < 0.6)
        invite(
            "SRV-SUPPORT",
            c["person"].to_numpy()[m],
            c["closed"].to_numpy()[m] + 3 * HOUR,
            c["order_idx"].to_numpy()[m],
            _choice(rng, (["email", "call_center"], [0.7, 0.3]), int(m.sum())),
        )
        crm_people = np.flatnonzero(pd.notna(p["crm_customer_id"]).to_numpy())
        # relationship survey: every quarter a 20% sample of CRM customers who exist by then
        q_start = self.t0 + 15 * DAY
        while q_start < self.t1 - 5 * DAY:
            pick = crm_people[
                (rng.random(len(crm_people)) < 0.2) & (p["created"].to_numpy()[crm_people] < q_start)
            ]
            invite(
                "SRV-REL",
                pick,
                q_start + rng.integers(0, 5 * DAY, len(pick)),
                np.full(len(pick), -1),
                "email",
            )
            q_start += 91 * DAY
        newbies = crm_people[p["created"].to_numpy()[crm_people] > self.t0]
        pick = newbies[rng.random(len(newbies)) < 0.3]
        invite("SRV-ONBOARD", pick, p["created"].to_numpy()[pick] + 7 * DAY, np.full(len(pick), -1), "email")
        inv = pd.concat(inv_parts, ignore_index=True)
        inv = (
            inv[inv["sent"] <= self.t1].sort_values(["sent", "person"], kind="stable").reset_index(drop=True)
        )
        n = len(inv)
        inv["invitation_id"] = self._ids("INV-", n, width=9)
        person = inv["person"].to_numpy()
        pp = p.iloc[person]
        inv["delivered"] = rng.random(n) < 0.94
        has_order = inv["order_idx"].to_numpy() >= 0
        oidx = np.where(has_order, inv["order_idx"].to_numpy(), 0)
        self.put(
            "survey.invitations",
            pd.DataFrame(
                {
                    "invitation_id": inv["invitation_id"],
                    "survey_id": inv["survey"],
                    "email": self.email_variant(pp["email"].to_numpy(), rng, "survey"),
                    "phone": np.where(
                        inv["channel"].to_numpy() == "sms",
                        self.phone_variant(pp["calling"], pp["national"], rng, national_ok=False),
                        None,
                    ),
                    "crm_customer_id": pp["crm_customer_id"].to_numpy(),
                    "order_id": np.where(
                        has_order & (inv["survey"] != "SRV-SUPPORT"), o["order_id"].to_numpy()[oidx], None
                    ),
                    "channel": inv["channel"],
                    "sent_at": _iso(inv["sent"].to_numpy(), pp["offset"].to_numpy()),
                    "delivered": inv["delivered"].to_numpy(),
                    "_t": inv["sent"].to_numpy(),
                }
            ),
        )
        self.truth.append(
            pd.DataFrame(
                {
                    "system": "survey",
                    "source_id": inv["invitation_id"],
                    "person_id": pp["person_id"].to_numpy(),
                }
            )
        )
        # responses: the extremes answer more often
        rr = self.rng("survey.responses")
        sat = pp["sat"].to_numpy()
        responds = inv["delivered"].to_numpy() & (rr.random(n) < 0.2 + 0.1 * np.abs(sat))
        submitted = inv["sent"].to_numpy() + (rr.lognormal(2.0, 1.2, n) * HOUR).astype(np.int64)
        responds &= submitted <= self.t1
        r = inv[responds].reset_index(drop=True)
        rp = p.iloc[r["person"].to_numpy()]
        r_sub = submitted[responds]
        # experience of the order (or case) being surveyed
        oi = r["order_idx"].to_numpy()
        has_o = oi >= 0
        oi0 = np.where(has_o, oi, 0)
        late = np.where(has_o, o["late"].to_numpy()[oi0], False)
        refunded = np.where(has_o, o["refunded"].to_numpy()[oi0], False)
        ncases = np.where(has_o, o["cases"].to_numpy()[oi0], 0)
        marketplace = np.where(has_o, o["channel"].to_numpy()[oi0] == "marketplace", False)
        device = rp["device"].to_numpy()
        resp = pd.DataFrame(
            {
                "response_id": self._ids("RSP-", len(r), width=9),
                "invitation_id": r["invitation_id"],
                "survey_id": r["survey"],
                "email": self.email_variant(rp["email"].to_numpy(), rr, "survey"),
                "submitted_at": _iso(r_sub, rp["offset"].to_numpy()),
                "language": rp["language"].to_numpy(),
                "device": device,
                "_t": r_sub,
            }
        )
        resp_meta = pd.DataFrame(
            {
                "response_id": resp["response_id"],
                "survey": r["survey"],
                "person": r["person"].to_numpy(),
                "sat": rp["sat"].to_numpy(),
                "late": late,
                "refunded": refunded,
                "cases": ncases,
                "marketplace": marketplace,
                "mobile_web": device == "mobile_web",
                "language": rp["language"].to_numpy(),
                "t": r_sub,
            }
        )
        # anonymous website intercept responses (web survey, no invitation)
        web_n = max(1, len(p) // 20)
        wr = self.rng("survey.web_intercept")
        who = wr.integers(0, len(p), web_n)
        t_web = wr.integers(self.t0, self.t1, web_n)
        wp = p.iloc[who]
        give_email = wr.random(web_n) < 0.3
        web_resp = pd.DataFrame(
            {
                "response_id": self._ids("RSW-", web_n, width=8),
                "invitation_id": None,
                "survey_id": "SRV-WEB",
                "email": np.where(give_email, wp["email"].to_numpy(), None),
                "submitted_at": _iso(t_web, wp["offset"].to_numpy()),
                "language": wp["language"].to_numpy(),
                "device": wp["device"].to_numpy(),
                "_t": t_web,
            }
        )
        web_meta = pd.DataFrame(
            {
                "response_id": web_resp["response_id"],
                "survey": "SRV-WEB",
                "person": who,
                "sat": wp["sat"].to_numpy(),
                "late": False,
                "refunded": False,
                "cases": 0,
                "marketplace": False,
                "mobile_web": wp["device"].to_numpy() == "mobile_web",
                "language": wp["language"].to_numpy(),
                "t": t_web,
            }
        )
        self.put("survey.responses", pd.concat([resp, web_resp], ignore_index=True))
        meta = pd.concat([resp_meta, web_meta], ignore_index=True)
        self.answers(meta)
        if self.nps_dip is not None and "nps" not in self.survey_metrics:
            self._apply_csat_dip()

    def answers(self, meta: pd.DataFrame) -> None:
        rng = self.rng("survey.answers")
        q = self.questions
        parts = []
        self.nps_answers = []
        self.response_nps = np.full(len(meta), np.nan)
        for sid, qs in q.groupby("survey_id", sort=False):
            m = meta[meta["survey"] == sid]
            if m.empty:
                continue
            n = len(m)
            sat = m["sat"].to_numpy()
            late = m["late"].to_numpy().astype(float)
            ref = m["refunded"].to_numpy().astype(float)
            cases = m["cases"].to_numpy().astype(float)
            mw = m["mobile_web"].to_numpy().astype(float)
            # knob: a planted driver (0 by default: x - 0.0 is x, so the standard world is unchanged)
            mkt = self.knobs.marketplace_penalty * m["marketplace"].to_numpy().astype(float)
            nps = np.clip(
                np.rint(7.1 + 1.9 * sat - 2.6 * late - 1.0 * ref - 1.2 * cases + rng.normal(0, 1.1, n) - mkt),
                0,
                10,
            )
            csat = np.clip(
                np.rint(
                    3.8 + 0.8 * sat - 1.0 * late - 0.4 * ref - 0.5 * cases + rng.normal(0, 0.5, n) - mkt / 2.5
                ),
                1,
                5,
            )
            ces_pen = 1.2 * mw if sid == "SRV-PURCHASE" else 0.7 * cases
            ces = np.clip(np.rint(5.3 + 0.7 * sat - ces_pen + rng.normal(0, 0.8, n)), 1, 7)
            other = np.clip(np.rint(3.5 + 0.4 * sat + rng.normal(0, 0.8, n)), 1, 5)
            if self.nps_dip is not None:
                nps, ces = self._apply_dip(sid, m["t"].to_numpy(), nps, ces)
            self.response_nps[np.flatnonzero((meta["survey"] == sid).to_numpy())] = nps
            for _, qrow in qs.iterrows():
                metric = qrow["metric"]
                text = None
                numeric = {"nps": nps, "csat": csat, "ces": ces, "other": other}.get(metric)
                if metric == "open_text":
                    text = self._verbatims(rng, m["language"].to_numpy(), nps, late, cases)
                    numeric = np.full(n, np.nan)
                skip = rng.random(n) < 0.03  # skipped question: no row
                parts.append(
                    pd.DataFrame(
                        {
                            "response_id": m["response_id"].to_numpy()[~skip],
                            "question_id": qrow["question_id"],
                            "answer_numeric": numeric[~skip],
                            "answer_text": None if text is None else text[~skip],
                            "_t": m["t"].to_numpy()[~skip],
                        }
                    )
                )
        self.put("survey.answers", pd.concat(parts, ignore_index=True))
        self.detractors = meta.assign(nps=np.nan)
        self.meta = meta

    def _apply_dip(
        self, survey_id: str, submitted: np.ndarray, nps: np.ndarray, ces: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """The planted dip: answers to surveys at the dip's touchpoint submitted in its last N days lose
        ``points`` on NPS (0-10) and ``points / 1.5`` on CES (1-7), rounded and clipped to the scale."""
        assert self.nps_dip is not None
        touchpoint, n_days, points = self.nps_dip
        if SURVEY_TOUCHPOINTS[survey_id] != touchpoint:
            return nps, ces
        dip_from = _epoch(self.end_date - timedelta(days=n_days - 1))
        hit = submitted >= dip_from
        nps = np.where(hit, np.clip(np.rint(nps - points), 0, 10), nps)
        ces = np.where(hit, np.clip(np.rint(ces - points / 1.5), 1, 7), ces)
        return nps, ces

    def _apply_csat_dip(self) -> None:
        """The planted dip in a programme without NPS: CSAT answers at the dip's touchpoint submitted in its
        last N days also lose ``points / 2.5`` (1-5), rounded and clipped to the scale. (With NPS asked the
        dip stays NPS and CES only, so the dipped worlds of earlier versions are unchanged.)"""
        assert self.nps_dip is not None
        touchpoint, n_days, points = self.nps_dip
        q = self.questions
        at_touchpoint = q["survey_id"].map(SURVEY_TOUCHPOINTS) == touchpoint
        csat_q = q.loc[(q["metric"] == "csat") & at_touchpoint, "question_id"]
        ans = self.tables["survey.answers"]
        dip_from = _epoch(self.end_date - timedelta(days=n_days - 1))
        hit = ans["question_id"].isin(csat_q) & (ans["_t"] >= dip_from)
        ans.loc[hit, "answer_numeric"] = np.clip(np.rint(ans.loc[hit, "answer_numeric"] - points / 2.5), 1, 5)

    def _follow_up_answers(self, ans: pd.DataFrame) -> pd.Series:
        """Which answers the CX team calls back about (FOLLOW_UP_MAX_SCORE): NPS detractors when the
        programme asks NPS, else the dissatisfied CSAT and difficult CES answers it asks."""
        followed = ["nps"] if "nps" in self.survey_metrics else list(self.survey_metrics)
        hit = pd.Series(False, index=ans.index)
        for metric in followed:
            questions = self.questions.loc[self.questions["metric"] == metric, "question_id"]
            hit |= ans["question_id"].isin(questions) & (ans["answer_numeric"] <= FOLLOW_UP_MAX_SCORE[metric])
        return hit

    def _verbatims(self, rng, language, nps, late, cases) -> np.ndarray:
        n = len(language)
        out = np.empty(n, dtype=object)
        lang = np.array([lng.split("-")[0] for lng in language], dtype=object)
        pol = np.where(nps <= 6, "neg", np.where(nps <= 8, "neu", "pos"))
        roll = rng.random(n)
        pick = rng.integers(0, 1_000_000, n)
        for i in range(n):
            if roll[i] < 0.3:
                out[i] = None
            elif roll[i] < 0.4:
                out[i] = "" if roll[i] < 0.37 else "  "
            else:
                phrases = VERBATIMS[lang[i]][pol[i]]
                j = pick[i] % len(phrases)
                if pol[i] == "neg" and late[i] and lang[i] in VERBATIMS:
                    j = 0  # late deliveries complain about delivery
                out[i] = phrases[j]
        return out

    def interactions(self) -> None:
        rng = self.rng("crm.interactions")
        p, c = self.p, self.case_df
        crm = p["crm_customer_id"].to_numpy()
        parts = []
        # inbound contact when a case opens, outbound reply at first response
        parts.append(
            pd.DataFrame(
                {
                    "person": c["person"],
                    "case": c["case_id"],
                    "channel": c["channel"],
                    "direction": "inbound",
                    "t": c["opened"],
                    "tp": "TP-SUPPORT",
                    "purpose": "support",
                }
            )
        )
        parts.append(
            pd.DataFrame(
                {
                    "person": c["person"],
                    "case": c["case_id"],
                    "channel": c["channel"],
                    "direction": "outbound",
                    "t": c["opened"] + 2 * HOUR,
                    "tp": "TP-SUPPORT",
                    "purpose": "support",
                }
            )
        )
        crm_people = np.flatnonzero(pd.notna(crm))
        newbies = crm_people[p["created"].to_numpy()[crm_people] >= self.t0]
        parts.append(
            pd.DataFrame(
                {
                    "person": newbies,
                    "case": None,
                    "channel": "email",
                    "direction": "outbound",
                    "t": p["created"].to_numpy()[newbies] + DAY,
                    "tp": "TP-ONBOARDING",
                    "purpose": "onboarding",
                }
            )
        )
        k = rng.poisson(2.0 * self.days / 365, len(crm_people))
        who = np.repeat(crm_people, k)
        parts.append(
            pd.DataFrame(
                {
                    "person": who,
                    "case": None,
                    "channel": "email",
                    "direction": "outbound",
                    "t": rng.integers(self.t0, self.t1, len(who)),
                    "tp": "TP-EMAIL-MKT",
                    "purpose": "marketing",
                }
            )
        )
        # closed loop: most detractors (or dissatisfied answers, without NPS) get a follow-up call within days
        ans = self.tables["survey.answers"]
        det = ans[self._follow_up_answers(ans)]
        det = self.meta.set_index("response_id").loc[det["response_id"].unique()]
        det = det[pd.notna(crm[det["person"].to_numpy()])]
        fu = rng.random(len(det)) < 0.6
        det = det[fu]
        parts.append(
            pd.DataFrame(
                {
                    "person": det["person"].to_numpy(),
                    "case": None,
                    "channel": "phone",
                    "direction": "outbound",
                    "t": det["t"].to_numpy() + rng.integers(2 * HOUR, 10 * DAY, len(det)),
                    "tp": "TP-RELATIONSHIP",
                    "purpose": "follow_up",
                }
            )
        )
        it = pd.concat(parts, ignore_index=True)
        it = (
            it[(it["t"] <= self.t1) & (it["t"] >= self.t0)]
            .sort_values("t", kind="stable")
            .reset_index(drop=True)
        )
        person = it["person"].to_numpy().astype(int)
        self.put(
            "crm.interactions",
            pd.DataFrame(
                {
                    "interaction_id": self._ids("INT-", len(it), width=9),
                    "crm_customer_id": crm[person],
                    "case_id": it["case"],
                    "channel": it["channel"],
                    "direction": it["direction"],
                    "occurred_at": _iso(it["t"].to_numpy(), p["offset"].to_numpy()[person]),
                    "touchpoint_id": it["tp"],
                    "purpose": it["purpose"],
                    "_t": it["t"].to_numpy(),
                }
            ),
        )

    # ------------------------------------------------------------------ web
    def web(self) -> None:
        rng = self.rng("web.events")
        p, o = self.p, self.o
        n_p = len(p)
        base = self.person_base
        anon = np.char.add("anon-", np.char.zfill(np.arange(base, base + n_p).astype(str), 8)).astype(object)
        # sessions: one per web/app order (purchase funnel) + browsing sessions
        online = np.isin(o["channel"].to_numpy(), ["web", "app"])
        s_person = [o["person"].to_numpy()[online]]
        s_t = [o["ordered"].to_numpy()[online]]  # purchase sessions are anchored on the order time
        s_order = [o["order_id"].to_numpy()[online]]
        k = rng.poisson(6.0 * self.days / 365, n_p)
        who = np.repeat(np.arange(n_p), k)
        s_person.append(who)
        s_t.append(rng.integers(self.t0, self.t1, len(who)))
        s_order.append(np.full(len(who), None, dtype=object))
        # unknown visitors, never logged in
        n_anon = n_p // 2
        s_person.append(np.full(n_anon, -1))
        s_t.append(rng.integers(self.t0, self.t1, n_anon))
        s_order.append(np.full(n_anon, None, dtype=object))
        sp = np.concatenate(s_person)
        st = np.concatenate(s_t)
        so = np.concatenate(s_order)
        ns = len(sp)
        known = sp >= 0
        sp0 = np.where(known, sp, 0)
        device = np.where(known, p["device"].to_numpy()[sp0], _choice(rng, DEVICES, ns))
        visitor = self.id_next.get("anon-v", 0)
        self.id_next["anon-v"] = visitor + ns
        visitors = np.char.add("anon-v", np.arange(visitor, visitor + ns).astype(str)).astype(object)
        aid = np.where(known, anon[sp0], visitors)
        purchase = pd.notna(so)
        # funnel depth for browsing sessions; mobile web abandons checkout more often
        depth = np.where(purchase, 5, rng.choice([1, 2, 3, 4], ns, p=[0.35, 0.35, 0.15, 0.15]))
        # a browsing session that reaches checkout without an order is an abandoned checkout;
        # completed checkouts are the purchase sessions. Mobile web has friction: it abandons more.
        abandon_p = np.where(device == "mobile_web", 0.30, 0.10)
        reached_checkout = ~purchase & (rng.random(ns) < abandon_p)
        depth = np.where(reached_checkout, 4, depth)
        login = purchase | (known & (rng.random(ns) < 0.5)) | (reached_checkout & known)
        email = np.where(known & login, p["email"].to_numpy()[sp0], None)
        steps = ["page_view", "product_view", "add_to_cart", "checkout_start", "checkout_complete"]
        ev_session = np.repeat(np.arange(ns), depth)
        ev_step = np.concatenate([np.arange(d) for d in depth]) if ns else np.array([], int)
        extra = rng.random(len(ev_session))
        etype = np.asarray(steps, dtype=object)[ev_step]
        etype = np.where((ev_step == 1) & (extra < 0.2), "search", etype)
        support_view = known[ev_session] & (ev_step == 0) & (extra < 0.04)
        etype = np.where(support_view, "support_view", etype)
        paths = {
            "page_view": "/",
            "product_view": "/products/",
            "search": "/search",
            "add_to_cart": "/cart",
            "checkout_start": "/checkout",
            "checkout_complete": "/checkout/complete",
            "support_view": "/help",
        }
        gap = rng.integers(20, 300, len(ev_session))
        t_ev = st[ev_session] + ev_step * gap
        # a purchase funnel ends exactly when the shop records the order
        order_t = np.where(purchase, st, 0)
        t_ev = np.where(
            purchase[ev_session], order_t[ev_session] - (depth[ev_session] - 1 - ev_step) * gap, t_ev
        )
        complete_is_order = (etype == "checkout_complete") & purchase[ev_session]
        order_id = np.where(complete_is_order, so[ev_session], None)
        # checkout_complete of a browsing session with no real order: make it a checkout_start retry
        etype = np.where((etype == "checkout_complete") & ~purchase[ev_session], "checkout_start", etype)
        path = np.array([paths[e] for e in etype], dtype=object)
        # user_email appears after login (from add_to_cart on, or on every event of a purchase session)
        logged = (email[ev_session] != None) & ((ev_step >= 2) | purchase[ev_session])  # noqa: E711
        utm = _choice(
            rng, (["google", "facebook", "newsletter", "direct", ""], [0.3, 0.2, 0.1, 0.3, 0.1]), ns
        )
        # 3% of events arrive late (1-3 days)
        late_days = np.where(rng.random(len(ev_session)) < 0.03, rng.integers(1, 4, len(ev_session)), 0)
        keep = (t_ev >= self.t0) & (t_ev <= self.t1)
        off = np.where(known, p["offset"].to_numpy()[sp0], 0)[ev_session]
        ev = pd.DataFrame(
            {
                "event_id": self._ids("EV-", len(ev_session), width=10),
                "anonymous_id": aid[ev_session],
                "user_email": np.where(logged, email[ev_session], None),
                "occurred_at": _iso(t_ev, off),
                "event_type": etype,
                "page_path": path,
                "device": device[ev_session],
                "utm_source": np.where(utm[ev_session] == "", None, utm[ev_session]),
                "order_id": order_id,
                "_t": t_ev + late_days * DAY,
            }
        )[keep]
        ev = ev[ev["_t"] <= self.t1 + 3 * DAY]
        ev["_t"] = np.minimum(ev["_t"].to_numpy(), self.t1)
        self.put("web.events", ev.reset_index(drop=True))
        logged_ids = pd.unique(ev.loc[pd.notna(ev["user_email"]), "anonymous_id"])
        logged_known = [a for a in logged_ids if not str(a).startswith("anon-v")]
        self.truth.append(
            pd.DataFrame(
                {
                    "system": "web",
                    "source_id": logged_known,
                    "person_id": p["person_id"].to_numpy()[[int(a[5:]) - base for a in logged_known]],
                }
            )
        )

    # ------------------------------------------------------------------ plumbing
    def put(self, key: str, df: pd.DataFrame) -> None:
        self.tables[key] = df.reset_index(drop=True)

    def corrupt(self, bad_rate: float) -> dict[str, dict[str, int]]:
        """Append corrupted copies of good rows, one defect per row; return counts by table and kind."""
        manifest: dict[str, dict[str, int]] = {}
        for key, kinds in BAD_KINDS_BY_TABLE.items():
            df = self.tables[key]
            counts = {k: 0 for k in kinds}
            if bad_rate <= 0 or df.empty:
                manifest[key] = counts
                continue
            rng = self.rng("bad." + key)
            pk, ts = KEYS[key]
            # at least one row of every kind, so every defect is exercised even in tiny tables
            per_kind = max(1, round(bad_rate * len(df) / len(kinds)))
            pool = df
            if key == "survey.answers":
                pool = df[df["answer_numeric"].notna()]
            bad_parts = []
            for kind in kinds:
                m = min(per_kind, len(pool))
                if m == 0:
                    continue
                src = pool.iloc[rng.choice(len(pool), size=m, replace=False)].copy()
                if kind == "null_id":
                    src[pk] = None
                elif kind == "duplicate_id":
                    pass  # an exact re-sent copy
                elif kind == "unparseable_timestamp":
                    src[ts] = np.asarray(UNPARSEABLE, dtype=object)[rng.integers(0, len(UNPARSEABLE), m)]
                elif kind == "future_timestamp":
                    src[ts] = _iso(src["_t"].to_numpy() + rng.integers(400, 2000, m) * DAY, np.zeros(m, int))
                elif kind == "out_of_range_score":
                    src["answer_numeric"] = rng.choice([11.0, 12.0, -1.0, 42.0, 99.0], m)
                elif kind == "orphan_fk":
                    fk = "response_id" if key == "survey.answers" else "order_id"
                    src[fk] = np.char.add("ORPHAN-", np.arange(m).astype(str)).astype(object)
                elif kind == "unknown_currency":
                    src["currency"] = rng.choice(["XXX", "ABC", "ZZZ"], m).astype(object)
                elif kind == "negative_quantity":
                    src["quantity"] = -rng.integers(1, 5, m)
                counts[kind] = m
                src["_bad"] = kind  # never written: lets a dialect that drops rows recount its defects
                bad_parts.append(src)
            if bad_parts:
                self.tables[key] = pd.concat([df, *bad_parts], ignore_index=True)
            manifest[key] = counts
        return manifest


# ------------------------------------------------------------------ the contract, as the writer sees it
class ContractMismatch(RuntimeError):
    """The generator's frame for a table lacks a column the raw-data contract lists (a generator bug)."""


def contract_columns() -> dict[str, dict[str, list[str]]]:
    """system -> table -> ordered contract column names, from :mod:`insight_engine.contract`."""
    out: dict[str, dict[str, list[str]]] = {}
    for table in contract.tables().values():
        out.setdefault(table.system, {})[table.name] = table.column_names
    return out


def __getattr__(name: str):
    # ``CONTRACT`` is read from the contract on every access: the YAML is the one statement of it
    if name == "CONTRACT":
        return contract_columns()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _contract_frame(df: pd.DataFrame, table: contract.Table) -> pd.DataFrame:
    missing = [c for c in [*table.column_names, "_t"] if c not in df.columns]
    if missing:
        raise ContractMismatch(
            f"the generator's {table.key} frame has no column(s) {', '.join(missing)}, which the raw-data "
            f"contract ({contract.SOURCES_GLOB}) lists: generate them in insight_engine/generate.py "
            "or change the contract"
        )
    return df


# ------------------------------------------------------------------ column writers, one per dialect
def _is_amount(name: str) -> bool:
    return name == "amount" or name.endswith(("_amount", "_price", "_cost"))


def _text_array(values: pd.Series) -> pa.Array:
    """The values as text, nulls (None, NaN, NA) as null. Text columns convert in Arrow; only a column
    holding other Python objects (numbers mixed in) goes value by value through ``str``."""
    try:
        if values.dtype == object:
            arr = pa.array(values.to_numpy(dtype=object), type=pa.string(), from_pandas=True)
        else:
            arr = pa.array(values, from_pandas=True)
        if pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type):
            return arr.cast(pa.string())
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        pass
    return pa.array(
        [None if v is None or (isinstance(v, float) and np.isnan(v)) else str(v) for v in values],
        type=pa.string(),
    )


def _iso_array(values: pd.Series, family: contract.Family) -> pa.Array:
    """The canonical column as the ``iso`` dialect writes it: text, BIGINT, DOUBLE or BOOLEAN."""
    if family in ("string", "timestamp", "date"):
        return _text_array(values)
    if family == "boolean":
        return pa.array(values.to_numpy(dtype=object), type=pa.bool_())
    number = family == "number"
    return pa.array(
        pd.array(values).astype("float64" if number else "Int64"),
        type=pa.float64() if number else pa.int64(),
        from_pandas=True,
    )


def _instants(values: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """UTC instants of the canonical ISO-8601 text, and where planted text is no timestamp at all."""
    text = pd.Series(values.to_numpy(dtype=object), dtype=object)
    instants = pd.to_datetime(text, utc=True, format="ISO8601", errors="coerce")
    return instants, (text.notna() & instants.isna()).to_numpy()


def _wall_clock(instants: pd.Series, zone: str) -> pd.Series:
    """Naive local time in ``zone`` of UTC instants (what a clock on the wall there showed)."""
    return instants.dt.tz_convert(zone).dt.tz_localize(None)


def naive_text(values: pd.Series, zone: str) -> np.ndarray:
    """Timestamps as an export that knows no offsets writes them: wall-clock text in ``zone``.

    Rows alternate between ``YYYY-MM-DD HH:MM:SS`` and ``YYYY-MM-DDTHH:MM:SS.ffffff``; nulls stay null and
    planted text that is no timestamp stays as it is.
    """
    raw = values.to_numpy(dtype=object)
    instants, unparseable = _instants(values)
    local = _wall_clock(instants, zone).to_numpy(dtype="datetime64[us]")
    spaced = np.char.replace(np.datetime_as_string(local, unit="s"), "T", " ")
    fraction = np.datetime_as_string(local, unit="us")
    text = np.where(np.arange(len(raw)) % 2 == 0, spaced, fraction).astype(object)
    text[np.isnat(local)] = None
    text[unparseable] = raw[unparseable]
    return text


def _native_array(values: pd.Series, column: contract.Column, system: str) -> pa.Array:
    """Parquet's own types, as a database export writes them."""
    family = column.family
    if family == "timestamp":
        instants, _ = _instants(values)  # planted text a TIMESTAMP cannot hold becomes null
        zone = NATIVE_WALL_CLOCK_ZONES.get(system)
        if zone:
            return pa.Array.from_pandas(_wall_clock(instants, zone)).cast(pa.timestamp("us"))
        return pa.Array.from_pandas(instants).cast(pa.timestamp("us", tz="UTC"))
    if family == "date":
        return _text_array(values).cast(pa.date32())
    if family == "integer":
        return _iso_array(values, family).cast(pa.int32())
    if family == "number" and _is_amount(column.name):
        return _iso_array(values, family).cast(NATIVE_DECIMAL)
    if column.name == "order_line_id":  # shops number the lines of an order 1, 2, 3
        return _text_array(values).cast(pa.int64())
    return _iso_array(values, family)


def _column_array(values: pd.Series, column: contract.Column, system: str, dialect: str) -> pa.Array:
    if dialect == "native":
        return _native_array(values, column, system)
    if dialect == "naive" and column.family == "timestamp":
        return pa.array(naive_text(values, NAIVE_ZONES[system]), type=pa.string())
    return _iso_array(values, column.family)


def source_timezones(dialect: str) -> str:
    """The ``SOURCE_TIMEZONES`` a reader must set for ``dialect`` ('' when no naive time is written)."""
    zones = {"naive": NAIVE_ZONES, "native": NATIVE_WALL_CLOCK_ZONES}.get(dialect, {})
    return ",".join(f"{system}={zone}" for system, zone in zones.items())


# ------------------------------------------------------------------ files
WRITER_THREADS = 2


def _write_parquet(table: pa.Table, path: Path, part: int = 0) -> None:
    """One ``part-<shard>.parquet`` per ``load_date=`` folder (hive partitions; the column is in the path).

    Sorted once and sliced per day: ``pyarrow.dataset.write_dataset`` with partitioning cost about 2 ms per
    file, most of the generator's time once thousands of daily folders are written."""
    load_date = table.column("load_date").to_numpy(zero_copy_only=False)
    order = np.argsort(load_date, kind="stable")
    data = table.drop_columns(["load_date"]).take(pa.array(order))  # one gather; days are slices of it
    days, starts = np.unique(load_date[order], return_index=True)
    ends = [*starts[1:], len(order)]

    def write(day: str, start: int, end: int) -> None:
        folder = path / f"load_date={day}"
        folder.mkdir(parents=True, exist_ok=True)
        pq.write_table(data.slice(start, end - start), folder / f"part-{part}.parquet")

    # Arrow releases the GIL while it encodes and writes: files are written two at a time
    with ThreadPoolExecutor(max_workers=WRITER_THREADS) as pool:
        list(pool.map(write, days, starts, ends))


def _write_csv(
    table: pa.Table, load_date: np.ndarray, path: Path, *, gzipped: bool, bom: bool, part: int = 0
) -> None:
    """One ``part-<shard>.csv[.gz]`` per ``load_date=`` folder: header row, RFC 4180 quoting, null as ''."""
    order = np.argsort(load_date, kind="stable")
    days, starts = np.unique(load_date[order], return_index=True)
    ends = [*starts[1:], len(order)]
    for day, start, end in zip(days, starts, ends, strict=True):
        buf = io.BytesIO()
        pacsv.write_csv(table.take(pa.array(order[start:end])), buf)
        data = (UTF8_BOM if bom else b"") + buf.getvalue()
        folder = path / f"load_date={day}"
        folder.mkdir(parents=True, exist_ok=part > 0)
        if gzipped:
            (folder / f"part-{part}.csv.gz").write_bytes(gzip.compress(data, mtime=0))
        else:
            (folder / f"part-{part}.csv").write_bytes(data)


def _write_table(
    df: pd.DataFrame, table: contract.Table, path: Path, dialect: str, end_date: date, part: int = 0
) -> int:
    """Write one contract table in ``dialect``: the contract's columns in its order, then ``_loaded_at``.

    Shard 0 (``part``) replaces the table's folder; later shards add their ``part-<n>`` files to it."""
    df = _contract_frame(df, table)
    if dialect == "sparse":  # one backfill: every row in the end date's folder
        load_day = np.full(len(df), np.datetime64(end_date, "D"))
    else:
        load_day = (df["_t"].to_numpy().astype(np.int64) // DAY).astype("datetime64[D]")
    # files land the next morning: _loaded_at = load_date + 1 day 02:00 UTC
    loaded_at = (load_day.astype("datetime64[s]") + np.timedelta64(DAY + 2 * HOUR, "s")).astype(
        "datetime64[us]"
    )
    arrays = {
        column.name: _column_array(df[column.name], column, table.system, dialect)
        for column in table.columns
        if not (dialect == "sparse" and column.name in SPARSE_ABSENT_COLUMNS)
    }
    if dialect == "iso":
        arrays["_loaded_at"] = pa.array(loaded_at, type=pa.timestamp("us"))
    elif dialect in ("naive", "native"):  # the loader's clock: an instant, whatever the source's zone
        arrays["_loaded_at"] = pa.array(loaded_at, type=pa.timestamp("us", tz="UTC"))
    elif dialect == "csv":
        arrays["_loaded_at"] = pa.array(
            np.char.replace(np.datetime_as_string(loaded_at, unit="s"), "T", " "), type=pa.string()
        )
    load_date = np.datetime_as_string(load_day, unit="D")
    if path.exists() and part == 0:
        shutil.rmtree(path)
    if dialect == "csv":
        table_out = pa.table(arrays)
        _write_csv(
            table_out,
            load_date,
            path,
            gzipped=table.key in CSV_GZIP_TABLES,
            bom=table.key in CSV_BOM_TABLES,
            part=part,
        )
    else:
        arrays["load_date"] = pa.array(load_date, type=pa.string())
        table_out = pa.table(arrays)
        _write_parquet(table_out, path, part)
    return table_out.num_rows


def _keep_question_metrics(
    tables: dict[str, pd.DataFrame], metrics: frozenset[str]
) -> dict[str, pd.DataFrame]:
    """The survey tables with only the questions whose metric is in ``metrics``, and only their answers
    (an answer without a question_id, a planted bad row, stays). Other tables are passed through."""
    out = dict(tables)
    questions = out["survey.questions"]
    questions = questions[questions["metric"].isin(metrics)]
    out["survey.questions"] = questions.reset_index(drop=True)
    kept = set(questions["question_id"].dropna())
    answers = out["survey.answers"]
    out["survey.answers"] = answers[
        answers["question_id"].isna() | answers["question_id"].isin(kept)
    ].reset_index(drop=True)
    return out


def _sparse_frames(tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """What a small shop's one-off backfill holds: no web events, no cases (nor the CRM contacts about
    cases), CSAT and comments only, and the current version of each re-exported record (one load cannot
    hold two versions of a key). Planted bad rows stay wherever their table, question and case do."""
    out = {k: df for k, df in tables.items() if k not in SPARSE_ABSENT_TABLES}
    out = _keep_question_metrics(out, SPARSE_METRICS)
    # without a case module the CRM logs no contacts about cases; its other interactions stay
    interactions = out["crm.interactions"]
    out["crm.interactions"] = interactions[interactions["case_id"].isna()].reset_index(drop=True)
    for key, pk in SPARSE_LATEST_VERSION_KEYS.items():
        df = out[key]
        clean = df["_bad"].isna() if "_bad" in df else pd.Series(True, index=df.index)
        latest = df[clean].sort_values("_t", kind="stable").drop_duplicates(pk, keep="last")
        out[key] = pd.concat([latest, df[~clean]]).sort_index().reset_index(drop=True)
    return out


def _bad_counts(df: pd.DataFrame, kinds: list[str]) -> dict[str, int]:
    written = df["_bad"].value_counts() if "_bad" in df else pd.Series(dtype=int)
    return {kind: int(written.get(kind, 0)) for kind in kinds}


def _dialect_notes(dialect: str) -> list[str]:
    """What a dialect changes, for the manifest (and the people reading it)."""
    notes = {
        "naive": [
            "timestamps: naive wall-clock text in each system's zone (source_timezones), rows alternating "
            "'YYYY-MM-DD HH:MM:SS' and 'YYYY-MM-DDTHH:MM:SS.ffffff'; planted unparseable text kept as is",
            "_loaded_at: TIMESTAMP WITH TIME ZONE (UTC), the loader's clock",
        ],
        "native": [
            "timestamps: TIMESTAMP WITH TIME ZONE (UTC), except naive wall-clock TIMESTAMP for the systems "
            "in source_timezones; birth_date DATE; amounts DECIMAL(18,2); counts INT32; order_line_id BIGINT",
            "planted unparseable_timestamp rows carry a null timestamp instead (a TIMESTAMP cannot hold "
            "text): staging sees them as missing timestamps",
        ],
        "csv": [
            "files: part-0.csv (web events part-0.csv.gz), header row, RFC 4180 quoting, null written as '' "
            "(so an empty comment reads as null); _loaded_at as 'YYYY-MM-DD HH:MM:SS' UTC",
            "UTF-8 BOM on: " + ", ".join(sorted(CSV_BOM_TABLES)),
        ],
        "sparse": [
            "absent tables (no folder): "
            + ", ".join(sorted(SPARSE_ABSENT_TABLES))
            + "; crm.interactions without the contacts about cases",
            "absent columns (in every table): " + ", ".join(sorted(SPARSE_ABSENT_COLUMNS)),
            "survey metrics: only " + ", ".join(sorted(SPARSE_METRICS)),
            "one backfill load (load_date = end_date) with the latest version of each re-exported record; "
            "no _loaded_at column",
        ],
    }
    return notes.get(dialect, [])


def check_survey_metrics(survey_metrics: Iterable[str] | str | None, dialect: str) -> tuple[str, ...]:
    """``survey_metrics`` checked and in canonical order (None: every metric); a ValueError names what is
    wrong. The CLI checks --survey-metrics with it before generating."""
    if survey_metrics is None:
        return SURVEY_METRICS
    if isinstance(survey_metrics, str):
        survey_metrics = [survey_metrics]
    asked = [str(m).strip().lower() for m in survey_metrics]
    unknown = sorted(set(asked) - set(SURVEY_METRICS))
    if unknown:
        raise ValueError(
            f"unknown survey metric(s) {', '.join(map(repr, unknown))}: "
            f"choose from {', '.join(SURVEY_METRICS)}"
        )
    if not asked:
        raise ValueError(f"--survey-metrics needs at least one of {', '.join(SURVEY_METRICS)}")
    metrics = tuple(m for m in SURVEY_METRICS if m in asked)
    if dialect == "sparse" and not set(metrics) & SPARSE_METRICS:
        raise ValueError(
            f"the sparse dialect writes only {', '.join(sorted(SPARSE_METRICS - UNRATED_METRICS))}: "
            f"survey metrics {', '.join(metrics)} would leave no rating question"
        )
    return metrics


def _dipped_metrics(survey_metrics: tuple[str, ...]) -> set[str]:
    """The metrics the planted dip lowers: NPS and CES, and CSAT in a programme without NPS."""
    return set(survey_metrics) & ({"nps", "ces"} if "nps" in survey_metrics else {"csat", "ces"})


def _check_dip(
    nps_dip: tuple[str, int, float], days: int, survey_metrics: tuple[str, ...] = SURVEY_METRICS
) -> None:
    touchpoint, n_days, points = nps_dip
    surveyed = sorted(set(SURVEY_TOUCHPOINTS.values()))
    if touchpoint not in surveyed:
        raise ValueError(
            f"--nps-dip touchpoint {touchpoint!r} has no survey: choose one of {', '.join(surveyed)}"
        )
    dipped = _dipped_metrics(survey_metrics)
    asked = {metric for _, _, _, tp, qs in SURVEYS if tp == touchpoint for metric, *_ in qs}
    if not asked & dipped:
        able = sorted({tp for _, _, _, tp, qs in SURVEYS for metric, *_ in qs if metric in dipped})
        raise ValueError(
            f"--nps-dip touchpoint {touchpoint!r} asks none of the metrics the dip lowers in this programme "
            f"({', '.join(sorted(dipped))}): choose one of {', '.join(able)}"
        )
    if not 1 <= n_days <= days:
        raise ValueError(f"--nps-dip days must be between 1 and the {days} days generated, got {n_days}")
    if not 0 < points <= 10:
        raise ValueError(f"--nps-dip points must be in (0, 10], got {points}")


def _simulate(g: _Generator, shard: int, shards: int) -> None:
    """Run the simulation steps of one shard of the world, in order, logging each step's time."""
    steps = [
        ("persons", g.persons),
        ("crm.customers", g.crm_customers),
        ("commerce.products", g.products),
        ("commerce.customers", g.shop_customers),
        ("commerce.orders", g.orders),
        ("crm.cases", g.cases),
        ("survey", g.surveys),
        ("survey.responses", g.invitations_responses_answers),
        ("experience effect", g.apply_experience_effect),
        ("crm.interactions", g.interactions),
        ("web.events", g.web),
    ]
    part = f"shard {shard + 1}/{shards} " if shards > 1 else ""
    for i, (name, step) in enumerate(steps, start=1):
        t = time.perf_counter()
        step()
        log.info("%s[%d/%d] simulated %-20s %.1fs", part, i, len(steps), name, time.perf_counter() - t)


def generate(
    out: Path,
    scale: str = "xs",
    seed: int = 42,
    days: int | None = None,
    bad_rate: float = 0.0,
    end_date: date = DEFAULT_END_DATE,
    nps_dip: tuple[str, int, float] | None = None,
    dialect: str = DEFAULT_DIALECT,
    survey_metrics: Iterable[str] | None = None,
    knobs: Knobs = Knobs(),
) -> GenerationResult:
    """Generate the landing zone under ``out``; returns row counts and the bad-row manifest.

    ``nps_dip`` plants a known experience dip for alert tests: ``(touchpoint_id, last_n_days, points)``
    lowers the NPS answers (by ``points``) and CES answers (by ``points / 1.5``) of surveys at that
    touchpoint submitted in the last ``last_n_days`` days of the window; in a programme without NPS it
    lowers the CSAT answers too (by ``points / 2.5``), so a CSAT-only world can show the dip. None (the
    default) leaves the data exactly as without the option.

    ``survey_metrics`` (a subset of :data:`SURVEY_METRICS`; None, the default, is all of them) is the survey
    programme: which rating questions the surveys ask. The world is the same; the questions of the other
    metrics and their answers are not written (comment and 'other' questions are always asked), and
    without NPS the CX team follows up the dissatisfied CSAT and difficult CES answers instead of NPS
    detractors. The default writes exactly what a generation without the option wrote.

    ``dialect`` (one of :data:`DIALECTS`) is how the world is written, never what it is: for one seed every
    dialect holds the same people, orders and answers. ``iso`` (the default) is the generator's own format;
    ``naive``, ``native``, ``csv`` and ``sparse`` write it as real exports do (see :data:`DIALECTS`). The
    manifest names the dialect, the ``SOURCE_TIMEZONES`` a reader must set (``source_timezones``) and what
    the dialect changes (``dialect_notes``).
    """
    if scale not in SCALES:
        raise ValueError(f"unknown scale {scale!r}: choose one of {', '.join(SCALES)}")
    if dialect not in DIALECTS:
        raise ValueError(f"unknown dialect {dialect!r}: choose one of {', '.join(DIALECTS)}")
    if not 0 <= bad_rate < 0.5:
        raise ValueError(f"--bad-rate must be in [0, 0.5), got {bad_rate}")
    days = days or SCALES[scale]["days"]
    if days < 30:
        raise ValueError(f"--days must be at least 30 (got {days}): surveys and orders need a history")
    metrics = check_survey_metrics(survey_metrics, dialect)
    if nps_dip is not None:
        _check_dip(nps_dip, days, metrics)
    knobs.check()
    tables = contract.tables()  # read (and checked) before minutes of simulation, not after
    started = time.perf_counter()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    result = GenerationResult(out=out)
    manifest: dict[str, dict[str, int]] = {}
    truth: list[pd.DataFrame] = []
    id_next: dict[str, int] = {}
    shards = -(-SCALES[scale]["persons"] // SHARD_PERSONS)
    for shard in range(shards):
        g = _Generator(
            scale,
            seed,
            days,
            end_date,
            nps_dip=nps_dip,
            survey_metrics=metrics,
            knobs=knobs,
            shard=shard,
            id_next=id_next,
        )
        _simulate(g, shard, shards)
        if metrics != SURVEY_METRICS:  # before corrupt(): the bad rows are copies of what is written
            g.tables = _keep_question_metrics(g.tables, frozenset(metrics) | UNRATED_METRICS)
        shard_bad = g.corrupt(bad_rate)
        frames = _sparse_frames(g.tables) if dialect == "sparse" else g.tables
        for key, table in tables.items():
            path = out / table.system / table.name
            if key not in frames:  # a table this dialect's export does not have: no folder at all
                if path.exists():
                    shutil.rmtree(path)
                continue
            if shard > 0 and key in SHARED_TABLES:
                continue
            t = time.perf_counter()
            n = _write_table(frames[key], table, path, dialect, end_date, part=shard)
            result.rows[key] = result.rows.get(key, 0) + n
            if key in shard_bad:
                counts = _bad_counts(frames[key], list(shard_bad[key]))
                total = manifest.setdefault(key, dict.fromkeys(counts, 0))
                for kind, count in counts.items():
                    total[kind] = total.get(kind, 0) + count
            dt = time.perf_counter() - t
            log.info("wrote %-22s %10d rows  %8.0f rows/s", key, n, n / max(dt, 1e-9))
        truth.extend(g.truth)
        start_date = g.start_date
        del g, frames  # one shard in memory at a time
    truth_dir = out / ".truth"
    truth_dir.mkdir(exist_ok=True)
    pq.write_table(
        pa.Table.from_pandas(pd.concat(truth, ignore_index=True), preserve_index=False),
        truth_dir / "identities.parquet",
    )
    result.bad = manifest
    result.dialect = dialect
    result.source_timezones = source_timezones(dialect)
    result.seconds = time.perf_counter() - started
    dip_note = {} if nps_dip is None else {"nps_dip": list(nps_dip)}
    if knobs != Knobs():
        dip_note["knobs"] = dataclasses.asdict(knobs)
    (out / "_manifest.json").write_text(
        json.dumps(
            {
                **dip_note,
                "scale": scale,
                "seed": seed,
                "days": days,
                "start_date": start_date.isoformat(),
                "end_date": end_date.isoformat(),
                "bad_rate": bad_rate,
                "dialect": dialect,
                "dialect_notes": _dialect_notes(dialect),
                "source_timezones": result.source_timezones,
                # the rating metrics written (the sparse dialect writes CSAT only)
                "survey_metrics": [m for m in metrics if dialect != "sparse" or m in SPARSE_METRICS],
                "rows": result.rows,
                "bad_rows": manifest,
                "seconds": round(result.seconds, 2),
            },
            indent=2,
            sort_keys=True,
        )
    )
    log.info(
        "generated %d rows (%s dialect) in %.1fs (%.0f rows/s) into %s",
        result.total_rows,
        dialect,
        result.seconds,
        result.total_rows / max(result.seconds, 1e-9),
        out,
    )
    return result
