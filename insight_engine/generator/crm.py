"""The CRM: customers (re-exported when they change), support cases, and every contact with a customer."""

from __future__ import annotations

import numpy as np
import pandas as pd

from insight_engine.generator.survey import follow_up_answers
from insight_engine.generator.world import (
    COUNTRIES,
    DAY,
    HOUR,
    World,
    choice,
    email_variant,
    iso,
    phone_variant,
)


def customers(w: World) -> None:
    """``crm.customers``: the people in the CRM (``w.p.crm_customer_id``), referrals, later versions."""
    rng = w.rng("crm.customers")
    p = w.p[w.p.in_crm].copy()
    n = len(p)
    p["crm_customer_id"] = w.ids("CRM-", n, width=7)
    w.p["crm_customer_id"] = None
    w.p.loc[p.index, "crm_customer_id"] = p["crm_customer_id"].to_numpy()
    # referrals: satisfied customers refer more; the referee arrives after the referrer
    referred = rng.random(n) < 0.15
    weight = np.exp(1.3 * p["sat"].to_numpy())
    referrer = rng.choice(n, size=n, p=weight / weight.sum())
    referred &= referrer != np.arange(n)
    ref_id = np.where(referred, p["crm_customer_id"].to_numpy()[referrer], None)
    created = p["created"].to_numpy().copy()
    created = np.where(referred, np.maximum(created, created[referrer] + DAY), created)
    created = np.minimum(created, w.t1 - DAY)
    p["created"] = created
    w.p.loc[p.index, "created"] = created
    birth = p["birth"].to_numpy().astype("datetime64[s]").astype("datetime64[D]").astype(str)
    rows = pd.DataFrame(
        {
            "crm_customer_id": p["crm_customer_id"].to_numpy(),
            "email": email_variant(p["email"].to_numpy(), rng, "crm"),
            "phone": phone_variant(p["calling"], p["national"], rng, national_ok=True),
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
            "created_at": iso(created, p["offset"]),
            "updated_at": iso(created, p["offset"]),
            "_t": np.maximum(created, w.t0),
        }
    )
    # 12% change later (segment upgrade or move) and are re-exported
    upd = rng.random(n) < 0.12
    later = rows[upd].copy()
    t_upd = later["_t"].to_numpy() + rng.integers(DAY, 200 * DAY, len(later))
    keep = t_upd < w.t1
    later = later[keep]
    t_upd = t_upd[keep]
    later["segment"] = np.where(later["segment"] == "consumer", "smb", later["segment"])
    # a move: the next city of the same country
    later["city"] = [
        COUNTRIES[c][5][(COUNTRIES[c][5].index(city) + 1) % len(COUNTRIES[c][5])]
        for c, city in zip(later["country"], later["city"], strict=True)
    ]
    later["updated_at"] = iso(t_upd, p.loc[upd]["offset"].to_numpy()[keep])
    later["_t"] = t_upd
    w.put("crm.customers", pd.concat([rows, later], ignore_index=True))
    w.truth.append(
        pd.DataFrame(
            {
                "system": "crm",
                "source_id": rows["crm_customer_id"],
                "person_id": p["person_id"].to_numpy(),
            }
        )
    )


def cases(w: World) -> None:
    """``crm.cases``: support cases after deliveries (more after late ones and refunds), open then closed;
    ``w.cases`` and the number of cases per order (``w.o.cases``) for the survey answers."""
    rng = w.rng("crm.cases")
    o = w.o
    crm = w.p["crm_customer_id"].to_numpy()[o["person"].to_numpy()]
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
    ch = choice(rng, (["phone", "chat", "email"], [0.4, 0.35, 0.25]), n)
    keep = opened <= w.t1
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
    cat = np.where(late, "delivery", choice(rng, (["refund", "product", "billing", "account"], None), n))
    w.cases = pd.DataFrame(
        {
            "case_id": w.ids("CS-", n, width=8),
            "person": o["person"].to_numpy()[idx],
            "order_idx": idx,
            "opened": opened,
            "closed": np.where(closed <= w.t1, closed, -1),
            "reopen": reopen,
            "channel": ch,
        }
    )
    base = pd.DataFrame(
        {
            "case_id": w.cases["case_id"],
            "crm_customer_id": crm[idx],
            "order_id": o["order_id"].to_numpy()[idx],
            "opened_at": iso(opened, offs),
            # the open version is exported the next morning: it knows only an earlier first response
            "first_response_at": np.where(
                first_resp <= (opened // DAY + 1) * DAY + 2 * HOUR, iso(first_resp, offs), None
            ),
            "closed_at": None,
            "channel": ch,
            "category": cat,
            "priority": choice(rng, (["low", "medium", "high"], [0.5, 0.35, 0.15]), n),
            "status": "open",
            "reopen_count": np.zeros(n, dtype=np.int64),
            "touchpoint_id": "TP-SUPPORT",
            "_t": opened,
        }
    )
    done = closed <= w.t1
    v2 = base[done].copy()
    v2["status"] = "closed"
    v2["first_response_at"] = iso(first_resp[done], offs[done])
    v2["closed_at"] = iso(closed[done], offs[done])
    v2["reopen_count"] = reopen[done].astype(np.int64)
    v2["_t"] = closed[done]
    w.put("crm.cases", pd.concat([base, v2], ignore_index=True))
    # n_cases per order for survey penalties
    w.o["cases"] = np.bincount(idx, minlength=len(o))


def interactions(w: World) -> None:
    """``crm.interactions``: case contacts, onboarding and marketing e-mails, follow-up calls."""
    rng = w.rng("crm.interactions")
    p, c = w.p, w.cases
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
    newbies = crm_people[p["created"].to_numpy()[crm_people] >= w.t0]
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
    k = rng.poisson(2.0 * w.days / 365, len(crm_people))
    who = np.repeat(crm_people, k)
    parts.append(
        pd.DataFrame(
            {
                "person": who,
                "case": None,
                "channel": "email",
                "direction": "outbound",
                "t": rng.integers(w.t0, w.t1, len(who)),
                "tp": "TP-EMAIL-MKT",
                "purpose": "marketing",
            }
        )
    )
    # closed loop: most detractors (or dissatisfied answers, without NPS) get a follow-up call within days
    ans = w.tables["survey.answers"]
    det = ans[follow_up_answers(w, ans)]
    det = w.meta.set_index("response_id").loc[det["response_id"].unique()]
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
    it = it[(it["t"] <= w.t1) & (it["t"] >= w.t0)].sort_values("t", kind="stable").reset_index(drop=True)
    person = it["person"].to_numpy().astype(int)
    w.put(
        "crm.interactions",
        pd.DataFrame(
            {
                "interaction_id": w.ids("INT-", len(it), width=9),
                "crm_customer_id": crm[person],
                "case_id": it["case"],
                "channel": it["channel"],
                "direction": it["direction"],
                "occurred_at": iso(it["t"].to_numpy(), p["offset"].to_numpy()[person]),
                "touchpoint_id": it["tp"],
                "purpose": it["purpose"],
                "_t": it["t"].to_numpy(),
            }
        ),
    )
