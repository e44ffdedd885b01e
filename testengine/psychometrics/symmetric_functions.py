"""Elementary symmetric functions for conditional maximum likelihood (psychometrics.rasch).

For eps_i = exp(-b_i) over a candidate's item set S, gamma_r(S) is the elementary symmetric
function of order r. Given the raw score r, the chance of a right answer to item p is
pi_p = eps_p gamma_{r-1}(S \\ p) / gamma_r(S), and to both p and q
pi_pq = eps_p eps_q gamma_{r-2}(S \\ p,q) / gamma_r(S). Prefix and suffix ESFs give the
leave-one-out terms as sums of positive numbers, which keeps them stable.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


def esf_terms(eps: FloatArray, score: IntArray) -> tuple[FloatArray, FloatArray, FloatArray]:
    """gamma_r(S), pi_p = eps_p gamma_{r-1}(S \\ p) / gamma_r and u_p = eps_p gamma_{r-2}(S \\ p) / gamma_r.

    `eps` is (k, rows): positions first, candidates (groups) last, so every update below is a
    contiguous vector operation across rows.
    """
    k, rows = eps.shape
    # front[p, a] = gamma_a(positions < p)
    front = np.zeros((k + 1, k + 1, rows))
    front[0, 0] = 1.0
    for p in range(k):
        front[p + 1] = front[p]
        front[p + 1, 1:] += eps[p] * front[p, :-1]
    columns = np.arange(rows)
    gamma_r = front[k, score, columns]
    # back[c] = gamma_{m-c}(positions >= p) for m = r - 1, indexed from the top so that the
    # leave-one-out sum over a + (m - a) = m needs no per-row gather.
    back = np.zeros((k + 2, rows))
    back[score - 1, columns] = 1.0
    at_m = np.empty((k, rows))
    below_m = np.empty((k, rows))
    for p in range(k - 1, -1, -1):
        at_m[p] = np.einsum("ar,ar->r", front[p], back[:-1])
        below_m[p] = np.einsum("ar,ar->r", front[p], back[1:])
        back[:-1] += eps[p] * back[1:]
    return gamma_r, eps * at_m / gamma_r, eps * below_m / gamma_r


def pair_probabilities(eps: FloatArray, score: IntArray, gamma_r: FloatArray, where: tuple[IntArray, ...]) -> FloatArray:
    """pi_pq by the summation algorithm over S without p and q, for the listed (p, q, row)."""
    p, q, row = where
    e = eps[:, row].copy()
    e[p, np.arange(row.size)] = 0.0  # eps = 0 leaves an item out of an ESF
    e[q, np.arange(row.size)] = 0.0
    k = e.shape[0]
    g = np.zeros((k + 1, row.size))
    g[0] = 1.0
    for t in range(k):
        g[1:] += e[t] * g[:-1]
    m = score[row] - 2
    g_m = np.where(m >= 0, g[np.clip(m, 0, k), np.arange(row.size)], 0.0)
    return np.asarray(eps[p, row] * eps[q, row] * g_m / gamma_r[row])
