"""Next-product suggestions from item-to-item co-purchase, with a popularity fallback and a time-based
holdout.

The customer x product incidence (1 = bought at least once) is built in the engine from distinct (customer,
product) pairs (one query with each pair's first and last purchase day serves every incidence the analysis
needs) and held as a scipy sparse matrix; from the co-purchase counts ``c = X'X`` (n_i = buyers of i,
N = customers) the item similarity is confidence ``c_ij / n_i`` = P(bought j | bought i) (default), cosine
``c_ij / sqrt(n_i n_j)`` or lift ``c_ij N / (n_i n_j)``. Cosine and lift discount popular products. Without
product affinities (the demo company before product bundles were planted) cosine lost to the popularity
baseline (54 % vs 59 % hit rate at 3) while confidence, which keeps the popularity of j in the score, matched
it; with the planted bundles (10,000 customers, one-year holdout) confidence reaches 64-67 % against 53-56 %
for popularity, cosine 65-68 % and lift 26-30 %. Confidence stays the default: it wins when there are
affinities and does not lose when there are none. A customer's score for a product is the sum of its
similarities to the products the customer bought; products already bought are excluded; when fewer than ``n``
products score above 0 the rest are filled with the most popular products (distinct buyers) the customer has
not bought.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow.compute as pc
from scipy import sparse
from sklearn.exceptions import NotFittedError

from salesperf.analyses.segmentation.sources import as_engine, require_orders, upto
from salesperf.core.errors import UserError
from salesperf.core.expr import as_date, purchase_line
from salesperf.data.engine import Engine


@dataclass
class Incidence:
    """Binary customer x product purchase matrix with its row and column ids."""

    customers: np.ndarray
    products: np.ndarray
    matrix: sparse.csr_matrix

    def align(self, customers: np.ndarray, products: np.ndarray) -> Incidence:
        """The same incidence re-indexed on given customer and product ids (unknown ids dropped, missing
        = empty)."""
        coo = self.matrix.tocoo()
        rows = (
            coo.row
            if _same_ids(customers, self.customers)
            else pd.Index(customers).get_indexer(self.customers)[coo.row]
        )
        cols = (
            coo.col
            if _same_ids(products, self.products)
            else pd.Index(products).get_indexer(self.products)[coo.col]
        )
        keep = (rows >= 0) & (cols >= 0)
        matrix = sparse.csr_matrix(
            (np.ones(keep.sum(), dtype=np.float32), (rows[keep], cols[keep])),
            shape=(len(customers), len(products)),
        )
        return Incidence(np.asarray(customers), np.asarray(products), matrix)


def _same_ids(a: np.ndarray, b: np.ndarray) -> bool:
    return a is b or (len(a) == len(b) and bool(np.all(np.asarray(a) == np.asarray(b))))


def _incidence(customer_codes: np.ndarray, product_codes: np.ndarray, customers, products) -> Incidence:
    matrix = sparse.csr_matrix(
        (np.ones(len(customer_codes), dtype=np.float32), (customer_codes, product_codes)),
        shape=(len(customers), len(products)),
    )
    matrix.data[:] = 1.0  # duplicates summed by the constructor: back to 0/1
    return Incidence(np.asarray(customers), np.asarray(products), matrix)


@dataclass
class PurchasePairs:
    """Every (customer, product) bought up to a date with its first and last purchase day (days since
    1970-01-01).

    One query serves every incidence the suggestions need: all purchases, purchases up to a cut-off and
    purchases after it share the customer axis, so they line up without re-indexing.
    """

    customers: np.ndarray
    products: np.ndarray
    customer_code: np.ndarray
    product_code: np.ndarray
    first_day: np.ndarray
    last_day: np.ndarray

    def incidence(self, until=None, since=None) -> Incidence:
        """Incidence of purchases dated in (since, until] (open ends = everything), on all customers and on
        the products bought in that range."""
        keep = np.ones(len(self.customer_code), dtype=bool)
        if until is not None:
            keep &= self.first_day <= _epoch_day(until, "until")
        if since is not None:
            keep &= self.last_day > _epoch_day(since, "since")
        used = np.flatnonzero(np.bincount(self.product_code[keep], minlength=len(self.products)) > 0)
        recode = np.full(len(self.products), -1)
        recode[used] = np.arange(len(used))
        return _incidence(
            self.customer_code[keep], recode[self.product_code[keep]], self.customers, self.products[used]
        )


def _epoch_day(value, name: str) -> int:
    return (as_date(value, name) - dt.date(1970, 1, 1)).days


def purchase_pairs_sql(engine: Engine, as_of) -> PurchasePairs:
    """Distinct (customer, product) purchase pairs up to ``as_of`` with first and last purchase day, from the
    engine.

    Only the aggregated pairs leave the engine (as Arrow, dictionary-encoded to integer codes here).
    """
    engine, as_of = as_engine(engine), as_date(as_of)
    require_orders(engine, ["customer_id", "order_date", "amount", "product_id"])
    orders = engine.table("orders")
    rows = orders.filter(upto(orders.order_date, as_of), purchase_line(orders), orders.product_id.notnull())
    day = rows.order_date.cast("date")
    pairs = rows.group_by("customer_id", "product_id").aggregate(
        first_day=day.min().epoch_days(), last_day=day.max().epoch_days()
    )
    table = engine.arrow(pairs)  # Arrow, not pandas: ids are coded without a Python string per pair
    customers, customer_code = _sorted_codes(table.column("customer_id"))
    products, product_code = _sorted_codes(table.column("product_id"))
    return PurchasePairs(
        customers,
        products,
        customer_code,
        product_code,
        table.column("first_day").to_numpy(),
        table.column("last_day").to_numpy(),
    )


def _sorted_codes(ids) -> tuple[np.ndarray, np.ndarray]:
    """(the distinct ids in sorted order, each row's position among them) of an Arrow column of ids.

    The engine returns groups in no fixed order: sorted ids make the rows and columns of the incidence, and so
    tie-breaks between equal scores and the order of the suggestions, the same on every run and engine.
    """
    encoded = pc.dictionary_encode(ids.cast("string")).combine_chunks()
    order = pc.array_sort_indices(encoded.dictionary).to_numpy()
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    distinct = encoded.dictionary.to_numpy(zero_copy_only=False)[order]
    return distinct, rank[encoded.indices.to_numpy()]


def incidence_sql(engine: Engine, as_of, since=None) -> Incidence:
    """Customer x product incidence of purchases dated in (since, as_of], from ``orders`` in the engine.

    Rows are every customer who bought a product by ``as_of`` (empty rows for those with nothing in the
    range).

    Returns
    -------
    Incidence
    """
    return purchase_pairs_sql(engine, as_of).incidence(since=since)


def incidence_from_pairs(
    pairs: pd.DataFrame, customer_col: str = "customer_id", product_col: str = "product_id"
) -> Incidence:
    """Incidence from a small frame of purchases (one row per line or pair)."""
    cust = pd.Categorical(pairs[customer_col].astype(str))
    prod = pd.Categorical(pairs[product_col].astype(str))
    return _incidence(cust.codes, prod.codes, cust.categories.to_numpy(), prod.categories.to_numpy())


class CoPurchaseSuggester:
    """Item-to-item co-purchase recommender (scikit-learn style).

    Parameters
    ----------
    n : int
        Suggestions per customer.
    similarity : {'confidence', 'cosine', 'lift'}
    chunk_size : int
        Customers scored at a time (memory: chunk_size x products floats).

    Attributes
    ----------
    similarity_ : ndarray
        Product x product similarity, zero diagonal.
    popularity_ : ndarray
        Distinct buyers per product.
    products_ : ndarray
    """

    def __init__(self, n: int = 3, similarity: str = "confidence", chunk_size: int = 20_000):
        self.n = n
        self.similarity = similarity
        self.chunk_size = chunk_size

    def fit(self, incidence: Incidence) -> CoPurchaseSuggester:
        if self.similarity not in ("confidence", "cosine", "lift"):
            raise UserError(
                f"suggestions: similarity must be 'confidence', 'cosine' or 'lift', got {self.similarity!r}"
            )
        x = incidence.matrix
        co = (x.T @ x).toarray().astype(np.float64)
        buyers = np.asarray(x.sum(axis=0)).ravel().astype(np.float64)
        safe = np.where(buyers > 0, buyers, np.inf)
        if self.similarity == "confidence":
            sim = co / safe[:, None]
        elif self.similarity == "cosine":
            sim = co / np.sqrt(np.outer(safe, safe))
        else:
            customers = np.count_nonzero(
                np.diff(x.indptr)
            )  # empty rows (no purchase in the range) do not count
            sim = co * customers / np.outer(safe, safe)
        np.fill_diagonal(sim, 0.0)
        self.similarity_ = sim.astype(np.float32)
        self.popularity_ = buyers
        self.products_ = incidence.products
        return self

    def _check(self):
        if not hasattr(self, "similarity_"):
            raise NotFittedError("CoPurchaseSuggester is not fitted yet: call fit(incidence) first")

    def top_codes(self, matrix: sparse.csr_matrix, method: str = "copurchase") -> np.ndarray:
        """Product column numbers of the top-n suggestions per row of a customer x product incidence
        (-1 = none).

        ``method='popularity'`` ranks by popularity only (the baseline).
        """
        self._check()
        n_products = len(self.products_)
        n = min(self.n, n_products)
        # tiny popularity tie-break so that equal co-purchase scores fall back to popularity (in float64,
        # where 1e-6 of a score is not lost to rounding); exact ties keep the products' (sorted) column order
        pop_bonus = self.popularity_ / (self.popularity_.max() + 1.0) * 1e-6
        similarity = self.similarity_.astype(np.float64)
        out = np.full((matrix.shape[0], n), -1, dtype=np.int64)
        for start in range(0, matrix.shape[0], self.chunk_size):
            block = matrix[start : start + self.chunk_size]
            owned = block.toarray() > 0
            if method == "popularity":
                scores = np.broadcast_to(self.popularity_, owned.shape).copy()
                scores[owned] = -np.inf
            else:
                scores = np.asarray(block @ similarity, dtype=np.float64)
                scores[scores <= 0] = 0.0
                positive = scores > 0
                # fallback: products with no co-purchase score rank by popularity below every scored product
                scores = np.where(positive, scores + 1.0, 0.0) + pop_bonus
                scores[owned] = -np.inf
            if n < n_products:
                idx = np.argpartition(-scores, n - 1, axis=1)[:, :n]
            else:
                idx = np.tile(np.arange(n_products), (len(scores), 1))
            part = np.take_along_axis(scores, idx, axis=1)
            order = np.argsort(-part, axis=1, kind="stable")
            idx, part = np.take_along_axis(idx, order, axis=1), np.take_along_axis(part, order, axis=1)
            idx[~np.isfinite(part)] = -1
            out[start : start + len(scores)] = idx
        return out

    def suggest(self, incidence: Incidence) -> pd.DataFrame:
        """Top-n products not yet bought, per customer of ``incidence`` (its columns must match the fit).

        Returns
        -------
        DataFrame
            customer_id, suggestion_1..suggestion_n (product ids; None when the customer already has
            everything).
        """
        self._check()
        if not np.array_equal(incidence.products, self.products_):
            incidence = incidence.align(incidence.customers, self.products_)
        codes = self.top_codes(incidence.matrix)
        names = np.append(self.products_.astype(object), None)
        out = pd.DataFrame({"customer_id": incidence.customers})
        for j in range(codes.shape[1]):
            out[f"suggestion_{j + 1}"] = names[codes[:, j]]
        return out


@dataclass
class SuggestionEvaluation:
    """Time-based holdout of :class:`CoPurchaseSuggester` versus the popularity baseline.

    Attributes
    ----------
    hit_rate : float
        Share of evaluated customers with at least one of their top-n suggestions bought after the cut-off.
    popularity_hit_rate : float
        The same for the n most popular products not yet bought.
    customers_evaluated : int
        Customers who bought before the cut-off and bought a product new to them (known before it) after it.
    n : int
        Suggestions per customer.
    """

    hit_rate: float
    popularity_hit_rate: float
    customers_evaluated: int
    n: int


def evaluate_suggestions(
    train: Incidence, test: Incidence, n: int = 3, similarity: str = "confidence"
) -> SuggestionEvaluation:
    """Fit on purchases before the cut-off (``train``), score hits on products first bought after it
    (``test``).

    Parameters
    ----------
    train, test : Incidence
        From :func:`incidence_sql` with ``as_of=cutoff`` and with ``since=cutoff`` (or from pairs).

    Returns
    -------
    SuggestionEvaluation
    """
    model = CoPurchaseSuggester(n=n, similarity=similarity).fit(train)
    later = test.align(train.customers, train.products).matrix
    new = (later - later.multiply(train.matrix)).tocsr()
    new.eliminate_zeros()
    bought_before = np.diff(train.matrix.tocsr().indptr) > 0
    rows = np.flatnonzero((np.diff(new.indptr) > 0) & bought_before)
    if len(rows) == 0:
        raise UserError(
            "suggestions: no customer bought a new product after the cut-off",
            hint="choose an earlier cut-off",
        )
    subset = train.matrix[rows]
    target = new[rows]

    def hits(codes: np.ndarray) -> float:
        picked = sparse.csr_matrix(
            (np.ones(np.count_nonzero(codes >= 0)), (np.nonzero(codes >= 0)[0], codes[codes >= 0])),
            shape=target.shape,
        )
        return float((np.asarray(picked.multiply(target).sum(axis=1)).ravel() > 0).mean())

    rate = hits(model.top_codes(subset))
    base = hits(model.top_codes(subset, method="popularity"))
    return SuggestionEvaluation(rate, base, len(rows), n)
