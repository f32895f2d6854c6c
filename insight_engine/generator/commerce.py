"""The shop: the catalogue, shop accounts, orders with their lines and refunds, and the planted effects of
experience and of frequent buyers on orders (:class:`~insight_engine.generator.world.Knobs`)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from insight_engine import fx
from insight_engine.generator.world import DAY, World, choice, email_variant, iso, numbered_ids, phone_variant

PRODUCT_CATEGORIES = ["electronics", "home", "fashion", "beauty", "grocery", "sports"]


def products(w: World) -> None:
    """``commerce.products``: the catalogue (``w.products``), the same in every shard."""
    rng = w.rng("commerce.products")
    n = w.cfg["products"]
    price = np.round(np.exp(rng.normal(3.3, 0.8, n)), 2)
    cat = np.asarray(PRODUCT_CATEGORIES, dtype=object)[rng.integers(0, len(PRODUCT_CATEGORIES), n)]
    w.products = pd.DataFrame(
        {
            "product_id": numbered_ids("PRD-", n, width=5),
            "name": np.char.add(
                np.char.add(cat.astype(str), " item "), np.arange(1, n + 1).astype(str)
            ).astype(object),
            "category": cat,
            "list_price": price,
            "unit_cost": np.round(price * rng.uniform(0.45, 0.75, n), 2),
            "currency": "USD",
            "_t": w.t0,
        }
    )
    w.put("commerce.products", w.products)


def customers(w: World) -> None:
    """``commerce.customers``: one shop account per shopper (``w.p.shop_id``), a second guest account for
    some (``w.p.shop_id2``)."""
    rng = w.rng("commerce.customers")
    p = w.p[w.p.shopper]
    n = len(p)
    ids = w.ids("SHP-", n, width=7)
    w.p["shop_id"] = None
    w.p.loc[p.index, "shop_id"] = ids
    created = np.maximum(p["created"].to_numpy(), w.t0 - 30 * DAY)
    a = pd.DataFrame(
        {
            "shop_customer_id": ids,
            "email": email_variant(p["email"].to_numpy(), rng, "shop"),
            "phone": phone_variant(p["calling"], p["national"], rng, national_ok=False),
            "created_at": iso(created, p["offset"]),
            "_t": np.maximum(created, w.t0),
        }
    )
    # a second (guest) account: different e-mail alias, same phone -> linked only through the phone
    two = p[p.two_shop_accounts]
    ids2 = w.ids("SHP-G", len(two), width=6)
    w.p["shop_id2"] = None
    w.p.loc[two.index, "shop_id2"] = ids2
    alias = np.array([e.replace("@", "+shop@") for e in two["email"]], dtype=object)
    t2 = np.clip(two["active_from"].to_numpy() + rng.integers(0, 90 * DAY, len(two)), None, w.t1 - DAY)
    b = pd.DataFrame(
        {
            "shop_customer_id": ids2,
            "email": alias,
            "phone": phone_variant(two["calling"], two["national"], rng, national_ok=False),
            "created_at": iso(t2, two["offset"]),
            "_t": t2,
        }
    )
    w.put("commerce.customers", pd.concat([a, b], ignore_index=True))
    w.truth.append(
        pd.DataFrame(
            {
                "system": "commerce",
                "source_id": np.concatenate([ids, ids2]),
                "person_id": np.concatenate([p["person_id"].to_numpy(), two["person_id"].to_numpy()]),
            }
        )
    )


def orders(w: World) -> None:
    """``commerce.orders`` (placed, then delivered or cancelled), ``commerce.order_lines`` and
    ``commerce.refunds``; ``w.o`` holds one row per order with what happened to it."""
    rng = w.rng("commerce.orders")
    p = w.p[w.p.shopper]
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
    channel = choice(rng, (["web", "app", "store", "marketplace"], [0.5, 0.25, 0.15, 0.1]), n)
    if w.knobs.app_for_frequent_buyers:
        earlier_orders = pd.Series(owner).groupby(owner).cumcount().to_numpy()
        channel = _app_for_frequent_buyers(w, channel, earlier_orders)
    currency = pp["currency"].to_numpy()
    store = channel == "store"
    late = (rng.random(n) < 0.12) & ~store
    ship_days = rng.uniform(1.0, 3.5, n) + late * rng.uniform(2.5, 9.0, n)
    promised = np.where(store, ordered, ordered + 4 * DAY)
    delivered = np.where(store, ordered, ordered + (ship_days * DAY).astype(np.int64))
    cancelled = (rng.random(n) < 0.04) & ~store
    oid = w.ids("ORD-", n, width=9)
    w.o = pd.DataFrame(
        {
            "order_id": oid,
            "person": pp.index.to_numpy(),
            "shop_customer_id": shop,
            "ordered": ordered,
            "channel": channel,
            "currency": currency,
            "offset": pp["offset"].to_numpy(),
            "late": late & ~cancelled & (delivered <= w.t1),
            "cancelled": cancelled,
            "delivered": np.where(cancelled | (delivered > w.t1), -1, delivered),
            "promised": promised,
            "device": pp["device"].to_numpy(),
        }
    )
    # lines
    rl = w.rng("commerce.order_lines")
    n_lines = np.minimum(1 + rl.poisson(0.9, n), 5)
    line_order = np.repeat(np.arange(n), n_lines)
    line_no = np.concatenate([np.arange(1, m + 1) for m in n_lines]) if n else np.array([], int)
    prod = rl.integers(0, len(w.products), len(line_order))
    qty = 1 + rl.poisson(0.35, len(line_order))
    rate = fx.units_per_usd_vec(currency[line_order], ordered[line_order])
    list_usd = w.products["list_price"].to_numpy()[prod]
    unit_price = np.round(list_usd * rate * rl.uniform(0.88, 1.0, len(line_order)), 2)
    unit_cost = np.round(w.products["unit_cost"].to_numpy()[prod] * rate, 2)
    lines = pd.DataFrame(
        {
            "order_line_id": line_no.astype(str).astype(object),
            "order_id": oid[line_order],
            "product_id": w.products["product_id"].to_numpy()[prod],
            "quantity": qty.astype(np.int64),
            "unit_price": unit_price,
            "unit_cost": unit_cost,
            "_t": ordered[line_order],
        }
    )
    gross = np.bincount(line_order, weights=unit_price * qty, minlength=n)
    w.o["gross"] = gross
    disc = np.where(rl.random(n) < 0.3, np.round(gross * rl.uniform(0.05, 0.2, n), 2), 0.0)
    ship = np.where(store, 0.0, np.round(4.99 * fx.units_per_usd_vec(currency, ordered), 2))
    base = pd.DataFrame(
        {
            "order_id": oid,
            "shop_customer_id": shop,
            "ordered_at": iso(ordered, w.o["offset"]),
            "channel": channel,
            "currency": currency,
            "status": "placed",
            "discount_amount": disc,
            "shipping_amount": ship,
            "promised_delivery_at": iso(promised, w.o["offset"]),
            "delivered_at": None,
            "_t": ordered,
        }
    )
    # later versions: delivered (or cancelled) re-exported on the day it happened
    d = w.o["delivered"].to_numpy()
    done = (d > 0) & ~store
    v2 = base[done].copy()
    v2["status"] = "delivered"
    v2["delivered_at"] = iso(d[done], w.o["offset"].to_numpy()[done])
    v2["_t"] = d[done]
    same_day_delivery = (d[done] // DAY) == (ordered[done] // DAY)
    v2["_t"] = np.where(same_day_delivery, v2["_t"] + DAY, v2["_t"])
    v2 = v2[v2["_t"] <= w.t1]
    base.loc[store, "status"] = "delivered"
    base.loc[store, "delivered_at"] = base.loc[store, "ordered_at"]
    shipped = ~store & ~cancelled & (d < 0)
    base.loc[shipped, "status"] = "shipped"
    canc = base[cancelled].copy()
    canc["status"] = "cancelled"
    canc["_t"] = canc["_t"] + DAY
    canc = canc[canc["_t"] <= w.t1]
    w.put("commerce.orders", pd.concat([base, v2, canc], ignore_index=True))
    w.put("commerce.order_lines", lines)
    # refunds: more likely after a late delivery
    rr = w.rng("commerce.refunds")
    delivered_ok = w.o["delivered"].to_numpy() > 0
    p_ref = 0.03 + 0.15 * w.o["late"].to_numpy()
    has_ref = delivered_ok & (rr.random(n) < p_ref)
    ref_orders = np.flatnonzero(has_ref)
    t_ref = w.o["delivered"].to_numpy()[ref_orders] + rr.integers(DAY, 20 * DAY, len(ref_orders))
    ok = t_ref <= w.t1
    ref_orders, t_ref = ref_orders[ok], t_ref[ok]
    first_line = np.searchsorted(line_order, ref_orders)
    whole = rr.random(len(ref_orders)) < 0.3
    line_amt = unit_price[first_line] * qty[first_line]
    amount = np.where(whole, np.round(gross[ref_orders] * 0.5, 2), np.round(line_amt, 2))
    w.o["refunded"] = False
    w.o.loc[ref_orders, "refunded"] = True
    w.put(
        "commerce.refunds",
        pd.DataFrame(
            {
                "refund_id": w.ids("RF-", len(ref_orders), width=8),
                "order_id": oid[ref_orders],
                "order_line_id": np.where(whole, None, line_no[first_line].astype(str)),
                "refunded_at": iso(t_ref, w.o["offset"].to_numpy()[ref_orders]),
                "amount": amount,
                "reason": np.where(
                    w.o["late"].to_numpy()[ref_orders],
                    "late_delivery",
                    choice(rr, (["damaged", "not_as_described", "changed_mind"], None), len(ref_orders)),
                ),
                "_t": t_ref,
            }
        ),
    )


def _app_for_frequent_buyers(w: World, channel: np.ndarray, earlier_orders: np.ndarray) -> np.ndarray:
    """Knob: an online (web/app) order goes through the app with probability 0.9 - 0.8 exp(-k / 3),
    k = the customer's earlier orders; store and marketplace orders keep their channel (a stream of
    random numbers of its own, so nothing else in the world moves)."""
    online = np.isin(channel, ["web", "app"])
    p_app = 0.9 - 0.8 * np.exp(-earlier_orders / 3.0)
    use_app = w.rng("knob.app_channel").random(len(channel)) < p_app
    return np.where(online, np.where(use_app, "app", "web"), channel).astype(object)


def experience_effect(w: World) -> None:
    """Knob ``experience_effect``: scale each order placed after an answer by its customer's latest
    answer's experience (promoter 1 + e, detractor 1 - e, passive 1); see
    :class:`~insight_engine.generator.world.Knobs`. Runs after the survey answers (``w.meta``)."""
    e = w.knobs.experience_effect
    if e == 0:
        return
    meta = w.meta
    answered = pd.DataFrame(
        {"person": meta["person"].to_numpy(), "t": meta["t"].to_numpy(), "nps": w.response_nps}
    ).sort_values("t", kind="stable")
    factor_of = np.where(answered["nps"] >= 9, 1 + e, np.where(answered["nps"] <= 6, 1 - e, 1.0))
    answered = answered.assign(factor=factor_of)
    placed = w.o[["order_id", "person", "ordered"]].sort_values("ordered", kind="stable")
    hit = pd.merge_asof(
        placed,
        answered[["person", "t", "factor"]],
        left_on="ordered",
        right_on="t",
        by="person",
        allow_exact_matches=False,
    )
    factor = dict(zip(hit["order_id"], hit["factor"].fillna(1.0), strict=True))

    def scale(key: str, columns: list[str]) -> None:
        df = w.tables[key]
        f = df["order_id"].map(factor).fillna(1.0).to_numpy()
        for col in columns:
            df[col] = np.round(df[col].to_numpy(dtype=float) * f, 2)

    scale("commerce.order_lines", ["unit_price", "unit_cost"])
    scale("commerce.orders", ["discount_amount"])
    scale("commerce.refunds", ["amount"])
