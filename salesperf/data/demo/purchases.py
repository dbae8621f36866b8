"""Products, purchase occasions, order lines, returns and co-purchase bundles.

Plants: exact BG/NBD purchase times per buyer (weeks), Gamma-Gamma occasion values times the month's
seasonality, the category mix per group and within-category popularity, ``RETURN_SHARE`` of orders partly
returned later, and the ``PRODUCT_BUNDLES`` co-purchase (the complement replaces a line of the customer's next
order). A forecasting analysis plants its effects here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from salesperf.data.demo.config import (
    BUNDLE_FOLLOW_PROBABILITY,
    CATEGORIES,
    CATEGORY_PRICE,
    CHANNELS,
    DAYS_PER_WEEK,
    GROUPS,
    MAX_LINES,
    PRODUCT_BUNDLES,
    PRODUCT_LEVELS,
    PRODUCTS_PER_CATEGORY,
    RETURN_MAX_DELAY_DAYS,
    RETURN_SHARE,
)
from salesperf.data.demo.customers import People
from salesperf.data.demo.targets import Org
from salesperf.data.demo.timeline import Calendar, choose


@dataclass
class Products:
    """The catalogue: ``len(CATEGORIES) * PRODUCTS_PER_CATEGORY`` products; product index = number - 1."""

    ids: list[str]
    names: list[str]
    category: np.ndarray  # category index
    list_price: np.ndarray
    popularity: np.ndarray  # within-category choice probability



def _product_index(category: str, level: str) -> int:
    return CATEGORIES.index(category) * PRODUCTS_PER_CATEGORY + PRODUCT_LEVELS.index(level)


def bundle_pairs() -> np.ndarray:
    """(trigger, complement) product indices of PRODUCT_BUNDLES, one row per pair."""
    return np.array([[_product_index(*t), _product_index(*c)] for t, c in PRODUCT_BUNDLES], dtype=np.int64)


def make_products(rng: np.random.Generator) -> Products:
    """Draw the catalogue's list prices (category base price x level x log-normal noise).

    Parameters
    ----------
    rng : numpy.random.Generator
        The products' stream.

    Returns
    -------
    Products
        30 products, ``PRODUCTS_PER_CATEGORY`` per category, ordered by category then level.
    """
    adjectives = PRODUCT_LEVELS
    ids, names, category, price, popularity = [], [], [], [], []
    zipf = 1.0 / np.arange(1, PRODUCTS_PER_CATEGORY + 1)
    zipf = zipf / zipf.sum()
    for c, cat in enumerate(CATEGORIES):
        base = CATEGORY_PRICE[cat]
        for k in range(PRODUCTS_PER_CATEGORY):
            ids.append(f"P{len(ids) + 1:03d}")
            names.append(f"{cat} {adjectives[k]}")
            category.append(c)
            price.append(round(float(base * (0.6 + 0.35 * k) * np.exp(rng.normal(0, 0.1))), 2))
            popularity.append(zipf[k])
    return Products(ids, names, np.array(category), np.array(price), np.array(popularity))


@dataclass
class Occasions:
    """Purchase occasions (one per customer and day), arrays of equal length sorted by (day, customer)."""

    customer: np.ndarray  # sorted by (day, customer)
    day: np.ndarray
    value: np.ndarray  # occasion value (sum of its completed lines before rounding)
    channel: np.ndarray


def simulate_occasions(rng: np.random.Generator, cal: Calendar, people: People) -> Occasions:
    """Draw every buyer's purchase occasions: exact BG/NBD times, Gamma-Gamma values.

    Parameters
    ----------
    rng : numpy.random.Generator
        The occasions' stream.
    cal : Calendar
        The data window; the first purchase is on the acquisition day, repeats up to ``cal.end``.
    people : People
        The customers; prospects (``group < 0``) get no occasions.

    Returns
    -------
    Occasions
        One row per (buyer, day) with a purchase; ``value`` is the seasonal Gamma-Gamma value (same-day
        purchases summed).
    """
    buyers = np.flatnonzero(people.group >= 0)
    lam, p = people.rate[buyers], people.dropout[buyers]
    acquired = people.created[buyers]
    horizon = (cal.end - acquired) / DAYS_PER_WEEK  # T in weeks: the whole day of `end` is not observed
    # BG/NBD: repeat purchases are a Poisson(lambda) process; after each repeat the customer dies with prob.
    # p. K = Poisson events in (0, T]; N = repeat after which the customer dies (Geometric(p) on 1, 2, ...).
    potential = rng.poisson(lam * horizon)
    death_after = rng.geometric(p)
    repeats = np.minimum(potential, death_after)
    # Times of the first `repeats` of K uniform order statistics on (0, T): U_(j) = S_j / S_(K+1), with S the
    # cumulative sums of K+1 standard exponentials; S_(K+1) = S_x + Gamma(K + 1 - x).
    owner = np.repeat(np.arange(len(buyers)), repeats)
    cumulative = _segment_cumsum(rng.exponential(1.0, len(owner)), repeats)
    last = np.zeros(len(buyers))
    has = repeats > 0
    ends = np.cumsum(repeats) - 1
    last[has] = cumulative[ends[has]]
    total = last + rng.gamma(potential - repeats + 1.0)
    weeks = horizon[owner] * cumulative / total[owner]
    repeat_day = acquired[owner] + np.floor(weeks * DAYS_PER_WEEK).astype(np.int64)

    # First purchase at acquisition, then the repeats (already in time order per customer).
    counts = repeats + 1
    starts = np.cumsum(counts) - counts
    customer = np.repeat(buyers, counts)
    day = np.empty(len(customer), dtype=np.int64)
    is_first = np.zeros(len(customer), dtype=bool)
    is_first[starts] = True
    day[is_first] = acquired
    day[~is_first] = repeat_day
    # Gamma-Gamma value of each purchase, times the month's seasonality factor.
    spend_shape = np.array([g.gamma_gamma["p"] for g in GROUPS])[people.group[customer]]
    value = rng.gamma(spend_shape, 1.0 / people.nu[customer]) * cal.season(day)
    # One occasion per customer and day: merge purchases that fall on the same day.
    new = np.ones(len(day), dtype=bool)
    new[1:] = (customer[1:] != customer[:-1]) | (day[1:] != day[:-1])
    key = np.cumsum(new) - 1
    value = np.bincount(key, weights=value)
    customer, day = customer[new], day[new]
    # Channel of each occasion from the group's channel mix.
    channel = np.empty(len(day), dtype=np.int64)
    group = people.group[customer]
    for g, spec in enumerate(GROUPS):
        members = group == g
        channel[members] = choose(rng, np.array([spec.channel_mix[c] for c in CHANNELS]), int(members.sum()))
    order = np.lexsort((customer, day))
    return Occasions(customer[order], day[order], value[order], channel[order])


def _segment_cumsum(values: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Cumulative sums restarting at each segment of ``lengths`` consecutive values."""
    running = np.cumsum(values)
    starts = np.cumsum(lengths) - lengths
    offsets = np.zeros(len(lengths))
    nonempty = (lengths > 0) & (starts > 0)
    offsets[nonempty] = running[starts[nonempty] - 1]
    return running - np.repeat(offsets, lengths)


@dataclass
class Lines:
    """Order lines (sales and returns), arrays of equal length sorted by day (stable)."""

    order: np.ndarray  # occasion index = order number - 1
    customer: np.ndarray
    day: np.ndarray
    amount: np.ndarray
    quantity: np.ndarray
    unit_price: np.ndarray
    product: np.ndarray
    rep: np.ndarray
    channel: np.ndarray
    returned: np.ndarray  # bool: status 'returned'
    n_orders: int


def order_lines(
    rng,
    cal: Calendar,
    people: People,
    occ: Occasions,
    org: Org,
    products: Products,
    bundle_rng: np.random.Generator,
) -> Lines:
    """Split occasions into order lines, plant the bundles and add the returns.

    Parameters
    ----------
    rng : numpy.random.Generator
        The order lines' stream.
    cal : Calendar
        The data window; returns dated after ``cal.end`` are dropped.
    people, occ, org, products
        Customers, their occasions, the organisation (the territory holder on the day sells), the catalogue.
    bundle_rng : numpy.random.Generator
        The bundles' own stream, so planting them leaves every other draw unchanged.

    Returns
    -------
    Lines
        ``1 + min(Poisson(extra_lines_mean), MAX_LINES - 1)`` lines per occasion (``order`` = occasion index),
        plus one negative ``returned`` line for about ``RETURN_SHARE`` of the orders.
    """
    n_occ = len(occ.day)
    group = people.group[occ.customer]
    extra = np.array([g.extra_lines_mean for g in GROUPS])[group]
    k = 1 + np.minimum(rng.poisson(extra), MAX_LINES - 1)
    order = np.repeat(np.arange(n_occ), k)
    line_group = group[order]
    # Category from the group's category mix, product by within-category popularity.
    category = np.empty(len(order), dtype=np.int64)
    for g, spec in enumerate(GROUPS):
        members = line_group == g
        category[members] = choose(
            rng, np.array([spec.category_mix[c] for c in CATEGORIES]), int(members.sum())
        )
    within = choose(rng, products.popularity[:PRODUCTS_PER_CATEGORY], len(order))
    product = category * PRODUCTS_PER_CATEGORY + within
    product = _plant_bundles(bundle_rng, occ.customer, order, product, len(products.ids))
    # Split the occasion value: Dirichlet(1, ..., 1) shares.
    weight = rng.exponential(1.0, len(order))
    share = weight / np.bincount(order, weights=weight, minlength=n_occ)[order]
    raw = occ.value[order] * share
    price = products.list_price[product]
    quantity = np.maximum(1.0, np.ceil(raw / price))
    unit_price = np.maximum(0.01, np.round(raw / quantity, 2))
    amount = np.round(quantity * unit_price, 2)
    rep = org.holder(people.slot[occ.customer], occ.day)[order]
    day = occ.day[order]
    customer = occ.customer[order]
    channel = occ.channel[order]

    # Returns: ~2 % of orders get one negative line on a later day (part or all of one of their lines).
    chosen = np.flatnonzero(rng.random(n_occ) < RETURN_SHARE)
    starts = np.cumsum(k) - k
    line = starts[chosen] + np.floor(rng.random(len(chosen)) * k[chosen]).astype(np.int64)
    back_day = day[line] + rng.integers(1, RETURN_MAX_DELAY_DAYS + 1, len(line))
    keep = back_day <= cal.end
    line, back_day = line[keep], back_day[keep]
    back_qty = np.ceil(rng.random(len(line)) * quantity[line])
    lines = Lines(
        order=np.concatenate([order, order[line]]),
        customer=np.concatenate([customer, customer[line]]),
        day=np.concatenate([day, back_day]),
        amount=np.concatenate([amount, -np.round(back_qty * unit_price[line], 2)]),
        quantity=np.concatenate([quantity, -back_qty]),
        unit_price=np.concatenate([unit_price, unit_price[line]]),
        product=np.concatenate([product, product[line]]),
        rep=np.concatenate([rep, rep[line]]),
        channel=np.concatenate([channel, channel[line]]),
        returned=np.concatenate([np.zeros(len(order), dtype=bool), np.ones(len(line), dtype=bool)]),
        n_orders=n_occ,
    )
    sort = np.argsort(lines.day, kind="stable")
    for name in (
        "order",
        "customer",
        "day",
        "amount",
        "quantity",
        "unit_price",
        "product",
        "rep",
        "channel",
        "returned",
    ):
        setattr(lines, name, getattr(lines, name)[sort])
    return lines


def _plant_bundles(
    rng: np.random.Generator,
    occasion_customer: np.ndarray,
    order: np.ndarray,
    product: np.ndarray,
    n_products: int,
) -> np.ndarray:
    """Products of the lines after planting PRODUCT_BUNDLES (see there).

    ``order`` (the occasion of each line) is non-decreasing and occasions are in time order, so the first line
    with a product is its first purchase.
    """
    pairs = bundle_pairs()
    bundle_of = np.full(n_products, -1)
    bundle_of[pairs[:, 0]] = np.arange(len(pairs))
    in_pair = np.zeros(n_products, dtype=bool)
    in_pair[pairs.ravel()] = True
    # First occasion of each (customer, trigger).
    trigger_lines = np.flatnonzero(bundle_of[product] >= 0)
    key = occasion_customer[order[trigger_lines]] * len(pairs) + bundle_of[product[trigger_lines]]
    first_key, first_line = np.unique(key, return_index=True)
    first_occasion = order[trigger_lines[first_line]]
    complement = pairs[first_key % len(pairs), 1]
    # The same customer's next occasion.
    n_occ = len(occasion_customer)
    by_customer = np.lexsort((np.arange(n_occ), occasion_customer))
    following = np.full(n_occ, -1)
    same = occasion_customer[by_customer[1:]] == occasion_customer[by_customer[:-1]]
    following[by_customer[:-1][same]] = by_customer[1:][same]
    target = following[first_occasion]
    follows = (rng.random(len(target)) < BUNDLE_FOLLOW_PROBABILITY) & (target >= 0)
    target, complement = target[follows], complement[follows]
    # Nothing to do where the next order already holds the complement.
    held = np.isin(target * n_products + complement, order * n_products + product)
    target, complement = target[~held], complement[~held]
    # The r-th complement planted in an occasion replaces its r-th line whose product is in no pair.
    events = np.lexsort((complement, target))
    target, complement = target[events], complement[events]
    event_rank = np.arange(len(target)) - np.searchsorted(target, target, side="left")
    free = np.flatnonzero(~in_pair[product])
    free_rank = np.arange(len(free)) - np.searchsorted(order[free], order[free], side="left")
    slot_key = order[free] * MAX_LINES + free_rank
    wanted = target * MAX_LINES + event_rank
    where = np.minimum(np.searchsorted(slot_key, wanted), len(slot_key) - 1)
    found = slot_key[where] == wanted
    product = product.copy()
    product[free[where[found]]] = complement[found]
    return product
