"""The web analytics export: sessions as funnels of events (a purchase funnel for every online order,
browsing sessions, anonymous visitors); mobile web abandons checkout more often."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from insight_engine.generator.world import DAY, DEVICES, World, format_ids, iso, text

# event types, by code: the funnel's steps (0-4, the step's number), then the two detours
EVENT_TYPES = [
    "page_view",
    "product_view",
    "add_to_cart",
    "checkout_start",
    "checkout_complete",
    "search",
    "support_view",
]
PAGE_PATHS = ["/", "/products/", "/cart", "/checkout", "/checkout/complete", "/search", "/help"]
SEARCH, SUPPORT_VIEW, CHECKOUT_START, CHECKOUT_COMPLETE = 5, 6, 3, 4
UTM_SOURCES = (["google", "facebook", "newsletter", "direct", None], [0.3, 0.2, 0.1, 0.3, 0.1])


def _labels(labels: list[str | None], codes: np.ndarray) -> pa.Array:
    """Text of coded values (a None label is null), built in Arrow."""
    return pa.array(labels, type=pa.string()).take(pa.array(codes))


def events(w: World) -> None:
    """``web.events``; the logged-in anonymous ids go to the identity truth.

    Every value is drawn and decided as numbers (codes for event types, devices and sources); only the
    kept events' values become text, in Arrow."""
    rng = w.rng("web.events")
    p, o = w.p, w.o
    n_p = len(p)
    base = w.person_base
    anon = format_ids("anon-", np.arange(base, base + n_p), width=8)
    # sessions: one per web/app order (purchase funnel) + browsing sessions
    online = np.isin(o["channel"].to_numpy(), ["web", "app"])
    online_orders = o["order_id"].to_numpy(dtype=object)[online]
    s_person = [o["person"].to_numpy()[online]]
    s_t = [o["ordered"].to_numpy()[online]]  # purchase sessions are anchored on the order time
    k = rng.poisson(6.0 * w.days / 365, n_p)
    who = np.repeat(np.arange(n_p), k)
    s_person.append(who)
    s_t.append(rng.integers(w.t0, w.t1, len(who)))
    # unknown visitors, never logged in
    n_anon = n_p // 2
    s_person.append(np.full(n_anon, -1))
    s_t.append(rng.integers(w.t0, w.t1, n_anon))
    sp = np.concatenate(s_person)
    st = np.concatenate(s_t)
    ns = len(sp)
    # the purchase sessions come first, one per online order
    purchase = np.zeros(ns, dtype=bool)
    purchase[: len(online_orders)] = pd.notna(online_orders)
    known = sp >= 0
    sp0 = np.where(known, sp, 0)
    device_names, device_p = DEVICES
    person_device = pd.Index(device_names).get_indexer(p["device"].to_numpy(dtype=object))
    device = np.where(known, person_device[sp0], rng.choice(len(device_names), size=ns, p=device_p))
    visitor = w.id_next.get("anon-v", 0)
    w.id_next["anon-v"] = visitor + ns
    visitors = format_ids("anon-v", np.arange(visitor, visitor + ns), width=0)
    aid = pc.if_else(pa.array(known), anon.take(pa.array(sp0)), visitors)
    # funnel depth for browsing sessions; mobile web abandons checkout more often
    depth = np.where(purchase, 5, rng.choice([1, 2, 3, 4], ns, p=[0.35, 0.35, 0.15, 0.15]))
    # a browsing session that reaches checkout without an order is an abandoned checkout;
    # completed checkouts are the purchase sessions. Mobile web has friction: it abandons more.
    abandon_p = np.where(device == device_names.index("mobile_web"), 0.30, 0.10)
    reached_checkout = ~purchase & (rng.random(ns) < abandon_p)
    depth = np.where(reached_checkout, 4, depth)
    login = purchase | (known & (rng.random(ns) < 0.5)) | (reached_checkout & known)
    has_email = known & login
    ev_session = np.repeat(np.arange(ns), depth)
    n_ev = len(ev_session)
    ev_step = np.arange(n_ev) - np.repeat(np.cumsum(depth) - depth, depth)
    extra = rng.random(n_ev)
    etype = ev_step.copy()
    etype[(ev_step == 1) & (extra < 0.2)] = SEARCH
    etype[known[ev_session] & (ev_step == 0) & (extra < 0.04)] = SUPPORT_VIEW
    gap = rng.integers(20, 300, n_ev)
    bought = purchase[ev_session]
    # a purchase funnel ends exactly when the shop records the order
    t_ev = np.where(
        bought, st[ev_session] - (depth[ev_session] - 1 - ev_step) * gap, st[ev_session] + ev_step * gap
    )
    complete_is_order = (etype == CHECKOUT_COMPLETE) & bought
    # checkout_complete of a browsing session with no real order: make it a checkout_start retry
    etype[(etype == CHECKOUT_COMPLETE) & ~bought] = CHECKOUT_START
    # user_email appears after login (from add_to_cart on, or on every event of a purchase session)
    logged = has_email[ev_session] & ((ev_step >= 2) | bought)
    utm_labels, utm_p = UTM_SOURCES
    utm = rng.choice(len(utm_labels), size=ns, p=utm_p)
    # 3% of events arrive late (1-3 days)
    late_days = np.where(rng.random(n_ev) < 0.03, rng.integers(1, 4, n_ev), 0)
    arrived = t_ev + late_days * DAY
    kept = np.flatnonzero((t_ev >= w.t0) & (t_ev <= w.t1) & (arrived <= w.t1 + 3 * DAY))
    ev_id = w.reserve("EV-", n_ev) + kept  # ids number every drawn event, kept or not
    session = ev_session[kept]
    person = sp0[session]
    emails = pa.array(p["email"].to_numpy(dtype=object), type=pa.string())
    order_of = np.minimum(session, max(len(online_orders) - 1, 0))
    ev = pd.DataFrame(
        {
            "event_id": text(format_ids("EV-", ev_id, width=10)),
            "anonymous_id": text(aid.take(pa.array(session))),
            "user_email": text(emails.take(pa.array(person, mask=~logged[kept]))),
            "occurred_at": iso(t_ev[kept], np.where(known[session], p["offset"].to_numpy()[person], 0)),
            "event_type": text(_labels(EVENT_TYPES, etype[kept])),
            "page_path": text(_labels(PAGE_PATHS, etype[kept])),
            "device": text(_labels(device_names, device[session])),
            "utm_source": text(_labels(utm_labels, utm[session])),
            "order_id": text(
                pa.array(online_orders, type=pa.string()).take(
                    pa.array(order_of, mask=~complete_is_order[kept])
                )
            ),
            "_t": np.minimum(arrived[kept], w.t1),
        }
    )
    w.put("web.events", ev)
    # the people who logged in, in the order of their first kept logged-in event
    logged_person = person[logged[kept]]
    _, first = np.unique(logged_person, return_index=True)
    who_logged = logged_person[np.sort(first)]
    w.truth.append(
        pd.DataFrame(
            {
                "system": "web",
                "source_id": anon.take(pa.array(who_logged)).to_numpy(zero_copy_only=False),
                "person_id": p["person_id"].to_numpy()[who_logged],
            }
        )
    )
