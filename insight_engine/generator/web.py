"""The web analytics export: sessions as funnels of events (a purchase funnel for every online order,
browsing sessions, anonymous visitors); mobile web abandons checkout more often."""

from __future__ import annotations

import numpy as np
import pandas as pd

from insight_engine.generator.world import DAY, DEVICES, World, choice, iso


def events(w: World) -> None:
    """``web.events``; the logged-in anonymous ids go to the identity truth."""
    rng = w.rng("web.events")
    p, o = w.p, w.o
    n_p = len(p)
    base = w.person_base
    anon = np.char.add("anon-", np.char.zfill(np.arange(base, base + n_p).astype(str), 8)).astype(object)
    # sessions: one per web/app order (purchase funnel) + browsing sessions
    online = np.isin(o["channel"].to_numpy(), ["web", "app"])
    s_person = [o["person"].to_numpy()[online]]
    s_t = [o["ordered"].to_numpy()[online]]  # purchase sessions are anchored on the order time
    s_order = [o["order_id"].to_numpy()[online]]
    k = rng.poisson(6.0 * w.days / 365, n_p)
    who = np.repeat(np.arange(n_p), k)
    s_person.append(who)
    s_t.append(rng.integers(w.t0, w.t1, len(who)))
    s_order.append(np.full(len(who), None, dtype=object))
    # unknown visitors, never logged in
    n_anon = n_p // 2
    s_person.append(np.full(n_anon, -1))
    s_t.append(rng.integers(w.t0, w.t1, n_anon))
    s_order.append(np.full(n_anon, None, dtype=object))
    sp = np.concatenate(s_person)
    st = np.concatenate(s_t)
    so = np.concatenate(s_order)
    ns = len(sp)
    known = sp >= 0
    sp0 = np.where(known, sp, 0)
    device = np.where(known, p["device"].to_numpy()[sp0], choice(rng, DEVICES, ns))
    visitor = w.id_next.get("anon-v", 0)
    w.id_next["anon-v"] = visitor + ns
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
    t_ev = np.where(purchase[ev_session], order_t[ev_session] - (depth[ev_session] - 1 - ev_step) * gap, t_ev)
    complete_is_order = (etype == "checkout_complete") & purchase[ev_session]
    order_id = np.where(complete_is_order, so[ev_session], None)
    # checkout_complete of a browsing session with no real order: make it a checkout_start retry
    etype = np.where((etype == "checkout_complete") & ~purchase[ev_session], "checkout_start", etype)
    path = np.array([paths[e] for e in etype], dtype=object)
    # user_email appears after login (from add_to_cart on, or on every event of a purchase session)
    logged = (email[ev_session] != None) & ((ev_step >= 2) | purchase[ev_session])  # noqa: E711
    utm = choice(rng, (["google", "facebook", "newsletter", "direct", ""], [0.3, 0.2, 0.1, 0.3, 0.1]), ns)
    # 3% of events arrive late (1-3 days)
    late_days = np.where(rng.random(len(ev_session)) < 0.03, rng.integers(1, 4, len(ev_session)), 0)
    keep = (t_ev >= w.t0) & (t_ev <= w.t1)
    off = np.where(known, p["offset"].to_numpy()[sp0], 0)[ev_session]
    ev = pd.DataFrame(
        {
            "event_id": w.ids("EV-", len(ev_session), width=10),
            "anonymous_id": aid[ev_session],
            "user_email": np.where(logged, email[ev_session], None),
            "occurred_at": iso(t_ev, off),
            "event_type": etype,
            "page_path": path,
            "device": device[ev_session],
            "utm_source": np.where(utm[ev_session] == "", None, utm[ev_session]),
            "order_id": order_id,
            "_t": t_ev + late_days * DAY,
        }
    )[keep]
    ev = ev[ev["_t"] <= w.t1 + 3 * DAY]
    ev["_t"] = np.minimum(ev["_t"].to_numpy(), w.t1)
    w.put("web.events", ev.reset_index(drop=True))
    logged_ids = pd.unique(ev.loc[pd.notna(ev["user_email"]), "anonymous_id"])
    logged_known = [a for a in logged_ids if not str(a).startswith("anon-v")]
    w.truth.append(
        pd.DataFrame(
            {
                "system": "web",
                "source_id": logged_known,
                "person_id": p["person_id"].to_numpy()[[int(a[5:]) - base for a in logged_known]],
            }
        )
    )
