"""The simulated world: its sizes, its people, and the state every source system's step reads and adds to.

:class:`World` is one shard of the world (all of it below :data:`SHARD_PERSONS` people): the window, the
shard's people, the frames the steps pass on (people ``p``, orders ``o``, cases, ...), the tables written so
far and the identity truth. Each step of :mod:`insight_engine.generator.run` is a function of the world
that draws its random numbers from ``world.rng("<stream>")``, one independent stream per name.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

DAY = 86_400
HOUR = 3_600

SCALES: dict[str, dict[str, int]] = {
    # persons, default days of history
    "xs": {"persons": 1_000, "days": 120, "products": 40},
    "s": {"persons": 10_000, "days": 540, "products": 300},
    "m": {"persons": 100_000, "days": 730, "products": 1_000},
    "l": {"persons": 1_000_000, "days": 730, "products": 3_000},
}

# Worlds above this many people are simulated and written in shards of this many (each load's one file,
# writer.LoadFiles, takes a row group per shard, or per few shards for the small tables whose rows it holds
# up to writer.LOAD_FILE_BUFFER_ROWS), so the generator's memory stays that of one shard (about 4 GB at
# 100,000 people, plus about 1.6 GB of open load files and held rows at l; 6.2-6.3 GB peak in all) whatever
# the scale. Smaller worlds are one shard and exactly what they were before shards existed.
# Read at call time from this module only (set it here, e.g. in a test, to shard a small world).
SHARD_PERSONS = 100_000
# tables every shard shares (the catalogue, the survey definitions): simulated alike, written by shard 0 only
SHARED_TABLES = frozenset({"commerce.products", "survey.surveys", "survey.questions"})

DEFAULT_END_DATE = date(2026, 9, 30)

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


def choice(rng: np.random.Generator, options: tuple[list[str], list[float] | None], n: int) -> np.ndarray:
    values, p = options
    return np.asarray(values, dtype=object)[rng.choice(len(values), size=n, p=p)]


# pandas' own text dtype (Arrow-backed): a column built in Arrow goes into a frame and out to a file
# without a Python string per value
TEXT = pd.StringDtype("pyarrow", na_value=np.nan)


def text(values: pa.Array | pa.ChunkedArray) -> pd.api.extensions.ExtensionArray:
    """Arrow strings as a pandas text array (no copy of the values)."""
    return pd.array(values, dtype=TEXT)


def _offset_suffix(minutes: int) -> str:
    if minutes == 0:
        return "Z"
    return f"{'-' if minutes < 0 else '+'}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def iso(ts: np.ndarray, offset_min: np.ndarray) -> pd.api.extensions.ExtensionArray:
    """ISO-8601 strings in local time with the UTC offset; ``ts`` are epoch seconds (UTC).

    Built in Arrow: the local time cast to text ('YYYY-MM-DD HH:MM:SS', the space made a 'T'), joined to
    its offset's suffix ('Z', '+03:00'), which is formatted once per distinct offset."""
    ts = np.asarray(ts, dtype="int64")
    offset_min = np.broadcast_to(np.asarray(offset_min, dtype="int64"), ts.shape)
    local = pa.array((ts + offset_min * 60).astype("datetime64[s]")).cast(pa.string())
    body = pc.binary_replace_slice(local, 10, 11, "T")
    offsets, which = np.unique(offset_min, return_inverse=True)
    suffixes = pa.array([_offset_suffix(m) for m in offsets.tolist()], type=pa.string())
    return text(pc.binary_join_element_wise(body, suffixes.take(pa.array(which.ravel())), ""))


def format_ids(prefix: str, numbers: np.ndarray, width: int) -> pa.Array:
    """Ids ``<prefix><number>`` of the given numbers, each zero-padded to ``width`` digits (Arrow text)."""
    digits = pa.array(np.asarray(numbers, dtype=np.int64)).cast(pa.string())
    return pc.binary_join_element_wise(prefix, pc.utf8_lpad(digits, width, "0"), "")


def numbered_ids(prefix: str, n: int, start: int = 1, width: int = 8) -> pd.api.extensions.ExtensionArray:
    """``n`` ids ``<prefix><number>`` from ``start``, the number zero-padded to ``width`` digits."""
    return text(format_ids(prefix, np.arange(start, start + n, dtype=np.int64), width))


def epoch(d: date) -> int:
    return int((d - date(1970, 1, 1)).days) * DAY


def shard_count(scale: str) -> int:
    """How many shards of :data:`SHARD_PERSONS` people the world of ``scale`` is simulated in."""
    return -(-SCALES[scale]["persons"] // SHARD_PERSONS)


class World:
    """One shard of the world, and what the simulation steps pass on to each other."""

    # filled in by the steps, in the order of insight_engine.generator.run._simulate
    p: pd.DataFrame  # persons(): one row per person of the shard, with their latent traits and source ids
    products: pd.DataFrame  # commerce.products(): the catalogue
    o: pd.DataFrame  # commerce.orders(): one row per order, with what happened to it
    cases: pd.DataFrame  # crm.cases(): one row per support case
    questions: pd.DataFrame  # survey.surveys(): the survey questions
    meta: pd.DataFrame  # survey.answers(): one row per response, with what its answers were drawn from
    response_nps: np.ndarray  # survey.answers(): the NPS each response was drawn with (NaN: none)

    def __init__(
        self,
        scale: str,
        seed: int,
        days: int,
        end_date: date,
        survey_metrics: tuple[str, ...],
        nps_dip: tuple[str, int, float] | None = None,
        knobs: Knobs = Knobs(),
        shard: int = 0,
        id_next: dict[str, int] | None = None,
    ) -> None:
        self.cfg = SCALES[scale]
        persons = self.cfg["persons"]
        self.shards = shard_count(scale)
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
        self.t0 = epoch(self.start_date)
        self.t1 = epoch(end_date) + DAY - 1  # last second of the window
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

    def reserve(self, prefix: str, n: int) -> int:
        """The first of ``n`` numbers of id ``prefix`` taken for this shard, numbered on from the numbers
        earlier shards took (a step that writes only some of them formats those with :func:`format_ids`)."""
        start = self.id_next.get(prefix, 1)
        self.id_next[prefix] = start + n
        return start

    def ids(self, prefix: str, n: int, width: int) -> pd.api.extensions.ExtensionArray:
        """``n`` new ids ``<prefix><number>``, numbered on from the ids earlier shards gave out."""
        return numbered_ids(prefix, n, start=self.reserve(prefix, n), width=width)

    def put(self, key: str, df: pd.DataFrame) -> None:
        self.tables[key] = df.reset_index(drop=True)


def persons(w: World) -> None:
    """The latent people of the shard (``w.p``): who they are, how satisfied, how long they stay."""
    rng = w.rng("persons")
    n = w.n_persons
    codes = list(COUNTRIES)
    country = np.asarray(codes, dtype=object)[
        rng.choice(len(codes), size=n, p=[COUNTRIES[c][0] for c in codes])
    ]
    sat = rng.normal(0.0, 1.0, n)
    created = rng.integers(w.t0 - 400 * DAY, w.t1 - 2 * DAY, n)
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
    idx = np.arange(w.person_base, w.person_base + n)  # numbers unique in the whole world
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
    w.p = pd.DataFrame(
        {
            "person_id": w.ids("PER-", n, width=7),
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
            "segment": choice(rng, SEGMENTS, n),
            "vertical": choice(rng, VERTICALS, n),
            "acq": choice(rng, ACQ, n),
            "gender": choice(rng, (["female", "male", "other", "unknown"], [0.48, 0.47, 0.02, 0.03]), n),
            "birth": rng.integers(epoch(date(1950, 1, 1)), epoch(date(2006, 1, 1)), n),
            "in_crm": rng.random(n) < 0.85,
            "shopper": rng.random(n) < 0.88,
            "two_shop_accounts": rng.random(n) < 0.05,
            "device": choice(rng, DEVICES, n),
        }
    )
    # lifetime: satisfied people stay longer (churn less)
    life_days = rng.exponential(420.0 * np.exp(w.knobs.churn_by_satisfaction * sat))
    start = np.maximum(created, w.t0)
    w.p["active_from"] = start
    w.p["active_to"] = np.minimum(start + (life_days * DAY).astype(np.int64), w.t1)


# ------------------------------------------------------------------ one person, as each system writes them
def email_variant(emails: np.ndarray, rng: np.random.Generator, style: str) -> np.ndarray:
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
    calling: np.ndarray, national: np.ndarray, rng: np.random.Generator, national_ok: bool
) -> pd.api.extensions.ExtensionArray:
    """The phone as a system writes it, one of four styles drawn per row (the national style, ``0`` and
    no calling code, only where ``national_ok``): ``+90 (532) 123 45 67``, ``0090...``, ``+90-532...``,
    ``0532 123 4567``."""
    code = pa.array(np.asarray(calling, dtype=str))
    digits = pa.array(np.asarray(national, dtype=str)).cast(pa.string())

    def part(start: int, stop: int | None = None) -> pa.Array:
        return pc.utf8_slice_codeunits(digits, start, stop)

    def join(*parts: str | pa.Array) -> pa.Array:
        return pc.binary_join_element_wise(*parts, "")

    styles = [
        join("+", code, " (", part(0, 3), ") ", part(3, 6), " ", part(6, 8), " ", part(8)),
        join("00", code, digits),
        join("+", code, "-", digits),
        join("0", part(0, 3), " ", part(3, 6), " ", part(6)),
    ]
    pick = rng.integers(0, 4 if national_ok else 3, len(digits))
    return text(pc.choose(pa.array(pick), *styles))
