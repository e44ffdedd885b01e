"""Rasch calibration by conditional maximum likelihood (CML), as eRm does it, on numpy/scipy.

No maintained Python library matches eRm well enough: none we know gives eRm's CML estimates
with conditioning on each candidate's own items, standard errors and fit (the maintained IRT
packages fit marginal, joint or Bayesian models). So this is a tested implementation; the tests
compare it with eRm 1.0-2 on LSAT6 and LSAT7.

Model: P(x_vi = 1) = exp(theta_v - b_i) / (1 + exp(theta_v - b_i)). Write eps_i = exp(-b_i)
and gamma_r(S) for the elementary symmetric function of order r of eps over the item set S.
A candidate's raw score r_v over the items S_v THEY were presented is sufficient for theta_v, so

    log L(b) = sum_v [ -sum_{i in S_v} x_vi b_i - log gamma_{r_v}(S_v) ]

does not involve theta (Andersen 1970). Items never presented to a candidate (on-demand forms)
are simply not in S_v. Its derivatives are moments given the score:

    d log L / d b_i  = -s_i + sum_v pi_vi,         pi_vi  = eps_i gamma_{r-1}(S_v \\ i) / gamma_r(S_v)
    information I_ij = sum_v (pi_vij - pi_vi pi_vj), pi_vij = eps_i eps_j gamma_{r-2}(S_v \\ i,j) / gamma_r(S_v)

(pi_vii = pi_vi). gamma(S \\ i) comes from prefix and suffix ESFs, which are sums of positive
terms and so stable; gamma(S \\ i,j) from the identity
eps_i gamma_m(S \\ i) - eps_j gamma_m(S \\ j) = (eps_i - eps_j) gamma_m(S \\ i,j), and directly
by the summation algorithm for the rare pairs with almost equal difficulties (within 1e-6), where
the identity cancels. Candidates with the same item set and score contribute alike, so they are
grouped, and all groups are computed at once, (k_max + 1)^2 numbers a group, in chunks.

Estimation: Newton-Raphson with the exact information matrix from log-odds starting values,
steps capped at 1 logit and halved while the likelihood falls; it stops when the Newton step is
below `tolerance` (1e-6 logits), after taking that step.
Identification: sum-zero centring (mean difficulty 0 over the estimated items, eRm's
sum0 = TRUE), unless anchors are given, which then fix the scale. Standard errors: square roots
of the diagonal of the Moore-Penrose inverse of the information (the covariance under the
sum-zero constraint), or of the free items' block inverse when anchored.

Who and what is calibrated: candidates with zero or perfect scores on their form carry no
information in CML and are excluded. Items answered right (or wrong) by every informative
candidate presented them have no finite estimate and are reported as not estimable; they are
then treated as not presented (CML on a subset of items is still CML), which may make more
candidates extreme, so the two rules are applied until nothing changes. Finite estimates
exist when Fischer's (1981) condition holds: every item must be linked to every other by a
chain of "right on one, wrong on the other" among candidates presented both (a strongly
connected response digraph). Items outside the largest such component are reported as not
estimable ("not linked").

Fit and reliability use maximum-likelihood abilities given b, for candidates with non-extreme
scores only (the ML ability of an extreme score is infinite; eRm's itemfit also leaves them out):
outfit = mean z^2, infit = sum (x - P)^2 / sum P (1 - P), with z = (x - P) / sqrt(P (1 - P));
person separation reliability = (var(theta) - mean(SE^2)) / var(theta), var with n - 1, as
eRm's SepRel.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components

from testengine.psychometrics.symmetric_functions import esf_terms, pair_probabilities

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

# Groups per chunk: the ESF arrays (k_max + 1)^2 x CHUNK doubles, 8 MB at k_max = 30, stay in cache.
CHUNK = 1024
# Below this difficulty difference the pair identity cancels; use the summation algorithm.
TIE = 1e-6


@dataclass(frozen=True, eq=False)
class RaschCalibration:
    """Item difficulties on the logit scale; arrays follow `items`, NaN where not estimable."""

    items: tuple[Hashable, ...]
    difficulty: FloatArray
    se: FloatArray  # NaN for anchored items (fixed, not estimated)
    infit: FloatArray  # information-weighted mean square
    outfit: FloatArray  # unweighted mean square
    n: IntArray  # informative candidates (non-extreme scores) presented the item
    n_presented: IntArray
    anchored: BoolArray
    not_estimable: Mapping[Hashable, str]  # item -> reason
    reliability: float  # person separation reliability (ML abilities, non-extreme candidates)
    n_candidates: int
    n_calibration: int  # candidates with a non-extreme score, the ones CML uses
    method: str
    converged: bool
    iterations: int
    max_gradient: float  # largest |d log L / d b| (expected minus observed item score) at the last evaluation
    last_step: float  # largest change of the final Newton step, logits
    log_likelihood: float  # conditional log-likelihood

    @property
    def estimable(self) -> BoolArray:
        return np.asarray(np.isfinite(self.difficulty))

    def to_frame(self) -> Any:
        """One row per item (a pandas DataFrame)."""
        import pandas as pd

        return pd.DataFrame(
            {
                "item": list(self.items),
                "b": self.difficulty,
                "se": self.se,
                "infit": self.infit,
                "outfit": self.outfit,
                "n": self.n,
                "n_presented": self.n_presented,
                "anchored": self.anchored,
                "note": [self.not_estimable.get(item, "") for item in self.items],
            }
        )


@dataclass(frozen=True, eq=False)
class _Forms:
    """Each candidate's presented items packed to the left: idx[v, :count[v]] and their 0/1."""

    idx: IntArray  # (n, k_max) pool columns, padding 0
    valid: BoolArray  # (n, k_max)
    right: BoolArray  # (n, k_max)
    n_items: int


def _as_matrix(responses: Any) -> tuple[FloatArray, tuple[Hashable, ...]]:
    x = np.asarray(responses, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"responses must be a 2-D candidates x items matrix, got shape {x.shape}")
    labels: tuple[Hashable, ...] = tuple(responses.columns) if hasattr(responses, "columns") else tuple(range(x.shape[1]))
    seen = x[~np.isnan(x)]
    if not np.all((seen == 0) | (seen == 1)):
        raise ValueError("responses must be 0, 1 or NaN (not presented)")
    return x, labels


def _pack(x: FloatArray) -> _Forms:
    presented = ~np.isnan(x)
    counts = presented.sum(axis=1)
    k_max = max(int(counts.max(initial=0)), 1)
    rows, cols = np.nonzero(presented)  # row-major: each row's columns ascending
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    position = np.arange(rows.size) - starts[rows]
    idx = np.zeros((x.shape[0], k_max), dtype=np.int64)
    valid = np.zeros((x.shape[0], k_max), dtype=bool)
    right = np.zeros((x.shape[0], k_max), dtype=bool)
    idx[rows, position] = cols
    valid[rows, position] = True
    right[rows, position] = x[rows, cols] == 1
    return _Forms(idx, valid, right, x.shape[1])


def _select(forms: _Forms, active: BoolArray, reasons: dict[int, str]) -> tuple[BoolArray, BoolArray]:
    """Drop items without a finite CML estimate and candidates with extreme scores, until stable."""
    k = forms.n_items
    while True:
        use = forms.valid & active[forms.idx]
        count = use.sum(axis=1)
        score = (use & forms.right).sum(axis=1)
        informative = (score > 0) & (score < count)
        counted = use & informative[:, None]
        n = np.bincount(forms.idx[counted], minlength=k)
        s = np.bincount(forms.idx[counted & forms.right], minlength=k)
        dropped = False
        for i in np.flatnonzero(active & (n == 0)):
            reasons[int(i)] = "no candidate with a non-extreme score was presented it"
            active[i], dropped = False, True
        for i in np.flatnonzero(active & (n > 0) & (s == n)):
            reasons[int(i)] = "answered right by every informative candidate presented it (b = -inf)"
            active[i], dropped = False, True
        for i in np.flatnonzero(active & (n > 0) & (s == 0)):
            reasons[int(i)] = "answered wrong by every informative candidate presented it (b = +inf)"
            active[i], dropped = False, True
        if dropped:
            continue
        # Fischer's condition: the digraph "right on i, wrong on j" must be strongly connected.
        rows = np.broadcast_to(np.arange(forms.idx.shape[0])[:, None], forms.idx.shape)
        on = counted & forms.right
        off = counted & ~forms.right
        shape = (forms.idx.shape[0], k)
        r_mat = csr_matrix((np.ones(int(on.sum())), (rows[on], forms.idx[on])), shape=shape)
        w_mat = csr_matrix((np.ones(int(off.sum())), (rows[off], forms.idx[off])), shape=shape)
        graph = (r_mat.T @ w_mat).tocsr()
        _, label = connected_components(graph, directed=True, connection="strong")
        sizes = np.bincount(label[active], minlength=label.max() + 1)
        if (sizes > 0).sum() <= 1:
            return active, informative
        keep = int(np.argmax(sizes))
        for i in np.flatnonzero(active & (label != keep)):
            reasons[int(i)] = "not linked: outside the largest strongly connected set of items (Fischer's condition)"
            active[i] = False


@dataclass(frozen=True, eq=False)
class _Groups:
    """Distinct (item set, score) pairs among informative candidates, with their counts."""

    idx: IntArray  # (g, k) sorted pool columns, padding n_items
    valid: BoolArray
    score: IntArray
    weight: FloatArray
    member: IntArray  # group of each informative candidate


def _group(forms: _Forms, active: BoolArray, informative: BoolArray) -> _Groups:
    use = (forms.valid & active[forms.idx])[informative]
    idx = np.where(use, forms.idx[informative], forms.n_items)
    idx.sort(axis=1)
    k = max(int(use.sum(axis=1).max(initial=0)), 1)
    idx = idx[:, :k]
    score = (use & forms.right[informative]).sum(axis=1)
    keys = np.concatenate([idx, score[:, None]], axis=1)
    unique, member, counts = np.unique(keys, axis=0, return_inverse=True, return_counts=True)
    g_idx = unique[:, :k]
    return _Groups(g_idx, g_idx < forms.n_items, unique[:, k], counts.astype(np.float64), member.ravel())


def _moments(groups: _Groups, b: FloatArray) -> tuple[FloatArray, FloatArray, float]:
    """Expected item scores given the raw scores, the information matrix, and sum w log gamma_r."""
    n_items = b.size
    near = np.abs(b[:, None] - b[None, :]) < TIE
    np.fill_diagonal(near, False)
    ties = np.zeros((n_items + 1, n_items + 1), dtype=bool) if near.any() else None
    if ties is not None:
        ties[:n_items, :n_items] = near
    b_pad = np.append(b, 0.0)
    expected = np.zeros(n_items + 1)
    cells = np.zeros((n_items + 1) ** 2)
    log_gamma = 0.0
    first, second = np.triu_indices(groups.idx.shape[1], 1)
    for start in range(0, groups.score.size, CHUNK):
        part = slice(start, start + CHUNK)
        idx = np.ascontiguousarray(groups.idx[part].T)
        valid = np.ascontiguousarray(groups.valid[part].T)
        score, weight = groups.score[part], groups.weight[part]
        bb = b_pad[idx]
        # Centring each row's difficulties leaves every probability unchanged and keeps the ESFs in range.
        centre = np.where(valid, bb, 0.0).sum(axis=0) / valid.sum(axis=0)
        eps = np.where(valid, np.exp(centre - bb), 0.0)
        gamma_r, pi, u = esf_terms(eps, score)
        log_gamma += float(weight @ (np.log(gamma_r) - score * centre))
        expected += np.bincount(idx.ravel(), weights=(pi * weight).ravel(), minlength=n_items + 1)
        # Pairs p < q (items sorted, so item p < item q): pi_pq = (u_p - u_q) / (1/eps_q - 1/eps_p).
        # Pairs with padding (index n_items, 1/eps = inf) land in cells cut off below: no mask needed.
        with np.errstate(divide="ignore", invalid="ignore"):
            inverse = 1.0 / eps
            both = u[first]
            both -= u[second]
            gap = inverse[second]
            gap -= inverse[first]
            both /= gap
        if ties is not None:
            tie = ties[idx[first], idx[second]]
            if tie.any():
                pair, row = np.nonzero(tie)
                both[pair, row] = pair_probabilities(eps, score, gamma_r, (first[pair], second[pair], row))
        both -= pi[first] * pi[second]
        both *= weight
        cells += np.bincount((idx[first] * (n_items + 1) + idx[second]).ravel(), weights=both.ravel(), minlength=cells.size)
        cells += np.bincount((idx * (n_items + 2)).ravel(), weights=(pi * (1.0 - pi) * weight).ravel(), minlength=cells.size)
    square = cells.reshape(n_items + 1, n_items + 1)[:n_items, :n_items]
    info = square + np.triu(square, 1).T
    return expected[:n_items], info, log_gamma


def _solve(info: FloatArray, gradient: FloatArray, free: BoolArray, sum_zero: bool) -> FloatArray:
    step = np.zeros(gradient.size)
    block = info[np.ix_(free, free)]
    if sum_zero:
        # I has null vector 1 (a common shift changes nothing); adding 1 1' makes it regular and the
        # solution sums to zero, which is the Newton step within the sum-zero constraint.
        block = block + 1.0
    step[free] = np.linalg.solve(block, gradient[free])
    return step


def _abilities(groups: _Groups, b: FloatArray) -> tuple[FloatArray, FloatArray]:
    """ML theta and its SE for each group (all scores non-extreme): solve sum_i P_i(theta) = r."""
    bb = np.append(b, 0.0)[groups.idx]
    valid = groups.valid
    count = valid.sum(axis=1)
    score = groups.score.astype(np.float64)
    low = np.where(valid, bb, np.inf).min(axis=1) - 40.0
    high = np.where(valid, bb, -np.inf).max(axis=1) + 40.0
    theta = np.log(score / (count - score)) + np.where(valid, bb, 0.0).sum(axis=1) / count
    todo = np.arange(theta.size)
    for _ in range(100):
        # Newton inside a shrinking bracket: sum_i P_i(theta) is increasing in theta.
        t, v = theta[todo], valid[todo]
        p = np.where(v, 1.0 / (1.0 + np.exp(bb[todo] - t[:, None])), 0.0)
        f = p.sum(axis=1) - score[todo]
        slope = (p * (1.0 - p)).sum(axis=1)
        low[todo] = np.where(f < 0, t, low[todo])
        high[todo] = np.where(f > 0, t, high[todo])
        proposal = t - f / slope
        bad = ~((proposal > low[todo]) & (proposal < high[todo]))
        proposal[bad] = 0.5 * (low[todo][bad] + high[todo][bad])
        theta[todo] = proposal
        todo = todo[np.abs(proposal - t) > 1e-10]
        if todo.size == 0:
            break
    p = np.where(valid, 1.0 / (1.0 + np.exp(bb - theta[:, None])), 0.0)
    return theta, 1.0 / np.sqrt((p * (1.0 - p)).sum(axis=1))


def calibrate(
    responses: Any,
    *,
    anchors: Mapping[Hashable, float] | None = None,
    tolerance: float = 1e-6,
    max_iterations: int = 100,
) -> RaschCalibration:
    """Rasch difficulties by conditional ML from a candidates x items matrix of 0, 1 and NaN.

    `responses` is an array or a DataFrame (whose columns name the items); NaN means the item
    was not presented (an omission presented is 0). `anchors` maps item labels to fixed
    difficulties: the other items are calibrated on the anchors' scale (no centring). Newton
    stops once its step is below `tolerance` logits; that step is taken, so the remaining
    error is of the order of its square.
    """
    x, labels = _as_matrix(responses)
    forms = _pack(x)
    k = x.shape[1]
    n_presented = np.bincount(forms.idx[forms.valid], minlength=k)
    anchored = np.zeros(k, dtype=bool)
    anchor_values = np.zeros(k)
    position = {label: i for i, label in enumerate(labels)}
    for label, value in (anchors or {}).items():
        if label not in position:
            raise ValueError(f"anchor {label!r} is not an item of the matrix")
        anchored[position[label]] = True
        anchor_values[position[label]] = float(value)
    reasons: dict[int, str] = {int(i): "never presented" for i in np.flatnonzero(n_presented == 0)}
    if k == 0 or x.shape[0] == 0:  # nothing to calibrate: reported below as too few items
        active, informative = np.zeros(k, dtype=bool), np.zeros(x.shape[0], dtype=bool)
    else:
        active, informative = _select(forms, n_presented > 0, reasons)
    difficulty = np.full(k, np.nan)
    se = np.full(k, np.nan)
    infit = np.full(k, np.nan)
    outfit = np.full(k, np.nan)
    n = np.zeros(k, dtype=np.int64)
    not_estimable = {labels[i]: reason for i, reason in sorted(reasons.items())}
    if anchors and not (active & anchored).any():
        raise ValueError("no anchored item is estimable from these data, so the anchors cannot fix the scale")
    sum_zero = not (active & anchored).any()
    n_anchors = int((active & anchored).sum())
    method = "conditional ML (Newton-Raphson), " + (
        "sum-zero centring" if sum_zero else f"anchored on {n_anchors} item{'' if n_anchors == 1 else 's'}"
    )
    if active.sum() < 2:
        return RaschCalibration(
            labels, difficulty, se, infit, outfit, n, n_presented, anchored, not_estimable, float("nan"),
            x.shape[0], int(informative.sum()), method, False, 0, float("nan"), float("nan"), float("nan"),
        )  # fmt: skip

    groups = _group(forms, active, informative)
    counted = forms.valid & active[forms.idx] & informative[:, None]
    n = np.bincount(forms.idx[counted], minlength=k).astype(np.int64)
    totals = np.bincount(forms.idx[counted & forms.right], minlength=k).astype(np.float64)

    free = active & ~anchored
    b = np.zeros(k)
    b[active] = np.log((n[active] - totals[active]) / totals[active])  # start: log odds of wrong to right
    # Items with equal counts start tied, and tied pairs take the slow path in _moments.
    b[active] += np.linspace(-1e-3, 1e-3, int(active.sum()))
    if sum_zero:
        b[active] -= b[active].mean()
    else:
        b[free] += (anchor_values[active & anchored] - b[active & anchored]).mean()
        b[anchored] = anchor_values[anchored]
    # No group refers to items out of the calibration; NaN keeps them out of the tie search.
    b[~active] = np.nan

    def log_likelihood(log_gamma: float, at: FloatArray) -> float:
        return float(-(totals[active] @ at[active]) - log_gamma)

    expected, info, log_gamma = _moments(groups, b)
    current = log_likelihood(log_gamma, b)
    converged, iterations, last_step, gradient = not free.any(), 0, 0.0, expected - totals
    for iterations in range(1, max_iterations + 1 if free.any() else 1):
        gradient = expected - totals
        step = _solve(info, gradient, free, sum_zero)
        last_step = float(np.max(np.abs(step)))
        if last_step < tolerance:
            # Newton converges quadratically: after this step the error is of order step^2, so
            # the information need not be evaluated again for the standard errors.
            b[free] += step[free]
            converged = True
            break
        if last_step > 1.0:  # far from the optimum a full step can overshoot
            step /= last_step
        scale = 1.0
        while True:
            trial = b + scale * step
            expected_t, info_t, log_gamma_t = _moments(groups, trial)
            value = log_likelihood(log_gamma_t, trial)
            if value >= current - 1e-12 * abs(current) or scale < 1e-6:
                break
            scale /= 2.0
        b, expected, info, current = trial, expected_t, info_t, value

    difficulty[active] = b[active]
    if sum_zero:
        difficulty[active] -= difficulty[active].mean()  # exact centring after rounding
        # The information has null vector 1, so its Moore-Penrose inverse is (I + J/k)^-1 - J/k.
        size = int(active.sum())
        ones = np.full((size, size), 1.0 / size)
        cov = np.linalg.inv(info[np.ix_(active, active)] + ones) - ones
        se[active] = np.sqrt(np.diag(cov))
    else:
        cov = np.linalg.inv(info[np.ix_(free, free)])
        se[free] = np.sqrt(np.diag(cov))

    theta_g, se_g = _abilities(groups, b)
    theta_v = theta_g[groups.member]
    bb = b[forms.idx[informative]]
    use = counted[informative]
    p = 1.0 / (1.0 + np.exp(bb - theta_v[:, None]))
    residual = np.where(forms.right[informative], 1.0, 0.0) - p
    variance = p * (1.0 - p)
    cols = forms.idx[informative][use]
    squared = np.bincount(cols, weights=(residual**2)[use], minlength=k)
    information = np.bincount(cols, weights=variance[use], minlength=k)
    z2 = np.bincount(cols, weights=(residual**2 / variance)[use], minlength=k)
    infit[active] = squared[active] / information[active]
    outfit[active] = z2[active] / n[active]
    observed = float(np.var(theta_v, ddof=1)) if theta_v.size > 1 else 0.0
    error = float(np.mean(se_g[groups.member] ** 2))
    reliability = (observed - error) / observed if observed > 0 else float("nan")

    return RaschCalibration(
        items=labels,
        difficulty=difficulty,
        se=se,
        infit=infit,
        outfit=outfit,
        n=n,
        n_presented=n_presented,
        anchored=anchored,
        not_estimable=not_estimable,
        reliability=reliability,
        n_candidates=x.shape[0],
        n_calibration=int(informative.sum()),
        method=method,
        converged=converged,
        iterations=iterations,
        max_gradient=float(np.max(np.abs(gradient[free]), initial=0.0)),
        last_step=last_step,
        log_likelihood=current,
    )
