"""The survey platform: the surveys and their questions, invitations after orders, cases and sign-ups and
to a quarterly relationship sample, responses (the extremes answer more often), answers drawn from the
latent satisfaction and the experience surveyed, comments, and the planted dip (``nps_dip``).

A *programme* (``survey_metrics``) asks only some of the rating metrics: the world is simulated the same,
and :func:`keep_question_metrics` leaves the other metrics' questions and answers unwritten.
"""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pandas as pd

from insight_engine.generator.world import DAY, HOUR, World, choice, email_variant, epoch, iso, phone_variant

# The rating metrics a survey programme can ask (generate(survey_metrics=...), --survey-metrics), in the
# order the manifest lists them. The other questions (open_text comments, 'other' ratings) are asked
# whatever the programme.
SURVEY_METRICS: tuple[str, ...] = ("nps", "csat", "ces")
UNRATED_METRICS = frozenset({"other", "open_text"})
# The answers a CX team follows up (the negative bands of seeds/survey_metric_thresholds.csv): highest score
# that asks for a follow-up. A programme with NPS follows up its detractors only, one without NPS the
# dissatisfied CSAT and difficult CES answers it asks.
FOLLOW_UP_MAX_SCORE: dict[str, int] = {"nps": 6, "csat": 2, "ces": 3}

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


def surveys(w: World) -> None:
    """``survey.surveys`` and ``survey.questions`` (``w.questions``), the same in every shard."""
    s_rows, q_rows = [], []
    for sid, name, stype, tp, questions in SURVEYS:
        s_rows.append((sid, name, stype, tp, iso(np.array([w.t0]), np.array([0]))[0], w.t0))
        for i, (metric, lo, hi, text) in enumerate(questions, start=1):
            q_rows.append((f"{sid}-Q{i}", sid, metric, lo, hi, text, w.t0))
    w.put(
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
    w.questions = q
    w.put("survey.questions", q)


def invitations_responses_answers(w: World) -> None:
    """``survey.invitations``, ``survey.responses`` (invited and anonymous website intercepts) and, through
    :func:`answers`, ``survey.answers``."""
    rng = w.rng("survey.invitations")
    o, p = w.o, w.p
    inv_parts: list[pd.DataFrame] = []

    def invite(survey: str, person: np.ndarray, sent: np.ndarray, order_idx: np.ndarray, channel) -> None:
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
        choice(rng, (["email", "sms", "app"], [0.6, 0.25, 0.15]), int(m.sum())),
    )
    m = ok & ~m & (rng.random(len(o)) < 0.3)
    invite(
        "SRV-DELIVERY",
        o["person"].to_numpy()[m],
        d[m] + 2 * HOUR,
        np.flatnonzero(m),
        choice(rng, (["sms", "email"], [0.7, 0.3]), int(m.sum())),
    )
    c = w.cases
    m = (c["closed"].to_numpy() > 0) & (rng.random(len(c)) < 0.6)
    invite(
        "SRV-SUPPORT",
        c["person"].to_numpy()[m],
        c["closed"].to_numpy()[m] + 3 * HOUR,
        c["order_idx"].to_numpy()[m],
        choice(rng, (["email", "call_center"], [0.7, 0.3]), int(m.sum())),
    )
    crm_people = np.flatnonzero(pd.notna(p["crm_customer_id"]).to_numpy())
    # relationship survey: every quarter a 20% sample of CRM customers who exist by then
    q_start = w.t0 + 15 * DAY
    while q_start < w.t1 - 5 * DAY:
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
    newbies = crm_people[p["created"].to_numpy()[crm_people] > w.t0]
    pick = newbies[rng.random(len(newbies)) < 0.3]
    invite("SRV-ONBOARD", pick, p["created"].to_numpy()[pick] + 7 * DAY, np.full(len(pick), -1), "email")
    inv = pd.concat(inv_parts, ignore_index=True)
    inv = inv[inv["sent"] <= w.t1].sort_values(["sent", "person"], kind="stable").reset_index(drop=True)
    n = len(inv)
    inv["invitation_id"] = w.ids("INV-", n, width=9)
    person = inv["person"].to_numpy()
    pp = p.iloc[person]
    inv["delivered"] = rng.random(n) < 0.94
    has_order = inv["order_idx"].to_numpy() >= 0
    oidx = np.where(has_order, inv["order_idx"].to_numpy(), 0)
    w.put(
        "survey.invitations",
        pd.DataFrame(
            {
                "invitation_id": inv["invitation_id"],
                "survey_id": inv["survey"],
                "email": email_variant(pp["email"].to_numpy(), rng, "survey"),
                "phone": np.where(
                    inv["channel"].to_numpy() == "sms",
                    phone_variant(pp["calling"], pp["national"], rng, national_ok=False),
                    None,
                ),
                "crm_customer_id": pp["crm_customer_id"].to_numpy(),
                "order_id": np.where(
                    has_order & (inv["survey"] != "SRV-SUPPORT"), o["order_id"].to_numpy()[oidx], None
                ),
                "channel": inv["channel"],
                "sent_at": iso(inv["sent"].to_numpy(), pp["offset"].to_numpy()),
                "delivered": inv["delivered"].to_numpy(),
                "_t": inv["sent"].to_numpy(),
            }
        ),
    )
    w.truth.append(
        pd.DataFrame(
            {
                "system": "survey",
                "source_id": inv["invitation_id"],
                "person_id": pp["person_id"].to_numpy(),
            }
        )
    )
    # responses: the extremes answer more often
    rr = w.rng("survey.responses")
    sat = pp["sat"].to_numpy()
    responds = inv["delivered"].to_numpy() & (rr.random(n) < 0.2 + 0.1 * np.abs(sat))
    submitted = inv["sent"].to_numpy() + (rr.lognormal(2.0, 1.2, n) * HOUR).astype(np.int64)
    responds &= submitted <= w.t1
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
            "response_id": w.ids("RSP-", len(r), width=9),
            "invitation_id": r["invitation_id"],
            "survey_id": r["survey"],
            "email": email_variant(rp["email"].to_numpy(), rr, "survey"),
            "submitted_at": iso(r_sub, rp["offset"].to_numpy()),
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
    wr = w.rng("survey.web_intercept")
    who = wr.integers(0, len(p), web_n)
    t_web = wr.integers(w.t0, w.t1, web_n)
    wp = p.iloc[who]
    give_email = wr.random(web_n) < 0.3
    web_resp = pd.DataFrame(
        {
            "response_id": w.ids("RSW-", web_n, width=8),
            "invitation_id": None,
            "survey_id": "SRV-WEB",
            "email": np.where(give_email, wp["email"].to_numpy(), None),
            "submitted_at": iso(t_web, wp["offset"].to_numpy()),
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
    w.put("survey.responses", pd.concat([resp, web_resp], ignore_index=True))
    meta = pd.concat([resp_meta, web_meta], ignore_index=True)
    answers(w, meta)
    if w.nps_dip is not None and "nps" not in w.survey_metrics:
        _apply_csat_dip(w)


def answers(w: World, meta: pd.DataFrame) -> None:
    """``survey.answers`` of the responses in ``meta``: scores from the latent satisfaction and the
    experience surveyed (late delivery, refund, cases, mobile-web friction, the marketplace knob), comments,
    skipped questions; keeps ``w.meta`` and ``w.response_nps`` for the steps after it."""
    rng = w.rng("survey.answers")
    q = w.questions
    parts = []
    w.response_nps = np.full(len(meta), np.nan)
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
        mkt = w.knobs.marketplace_penalty * m["marketplace"].to_numpy().astype(float)
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
        if w.nps_dip is not None:
            nps, ces = _apply_dip(w, str(sid), m["t"].to_numpy(), nps, ces)
        w.response_nps[np.flatnonzero((meta["survey"] == sid).to_numpy())] = nps
        for _, qrow in qs.iterrows():
            metric = qrow["metric"]
            text = None
            numeric = {"nps": nps, "csat": csat, "ces": ces, "other": other}.get(metric)
            if metric == "open_text":
                text = _verbatims(rng, m["language"].to_numpy(), nps, late, cases)
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
    w.put("survey.answers", pd.concat(parts, ignore_index=True))
    w.meta = meta


def _dip_from(w: World) -> int:
    """The first second of the planted dip: the start of its last N days."""
    assert w.nps_dip is not None
    return epoch(w.end_date - timedelta(days=w.nps_dip[1] - 1))


def _apply_dip(
    w: World, survey_id: str, submitted: np.ndarray, nps: np.ndarray, ces: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The planted dip: answers to surveys at the dip's touchpoint submitted in its last N days lose
    ``points`` on NPS (0-10) and ``points / 1.5`` on CES (1-7), rounded and clipped to the scale."""
    assert w.nps_dip is not None
    touchpoint, _, points = w.nps_dip
    if SURVEY_TOUCHPOINTS[survey_id] != touchpoint:
        return nps, ces
    hit = submitted >= _dip_from(w)
    nps = np.where(hit, np.clip(np.rint(nps - points), 0, 10), nps)
    ces = np.where(hit, np.clip(np.rint(ces - points / 1.5), 1, 7), ces)
    return nps, ces


def _apply_csat_dip(w: World) -> None:
    """The planted dip in a programme without NPS: CSAT answers at the dip's touchpoint submitted in its
    last N days also lose ``points / 2.5`` (1-5), rounded and clipped to the scale. (With NPS asked the
    dip stays NPS and CES only, so the dipped worlds of earlier versions are unchanged.)"""
    assert w.nps_dip is not None
    touchpoint, _, points = w.nps_dip
    q = w.questions
    at_touchpoint = q["survey_id"].map(SURVEY_TOUCHPOINTS) == touchpoint
    csat_q = q.loc[(q["metric"] == "csat") & at_touchpoint, "question_id"]
    ans = w.tables["survey.answers"]
    hit = ans["question_id"].isin(csat_q) & (ans["_t"] >= _dip_from(w))
    ans.loc[hit, "answer_numeric"] = np.clip(np.rint(ans.loc[hit, "answer_numeric"] - points / 2.5), 1, 5)


def follow_up_answers(w: World, ans: pd.DataFrame) -> pd.Series:
    """Which answers the CX team calls back about (FOLLOW_UP_MAX_SCORE): NPS detractors when the
    programme asks NPS, else the dissatisfied CSAT and difficult CES answers it asks."""
    followed = ["nps"] if "nps" in w.survey_metrics else list(w.survey_metrics)
    hit = pd.Series(False, index=ans.index)
    for metric in followed:
        questions = w.questions.loc[w.questions["metric"] == metric, "question_id"]
        hit |= ans["question_id"].isin(questions) & (ans["answer_numeric"] <= FOLLOW_UP_MAX_SCORE[metric])
    return hit


def _verbatims(rng: np.random.Generator, language, nps, late, cases) -> np.ndarray:
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


def keep_question_metrics(
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
