"""Charts for the analysts' screens, drawn with matplotlib and readable without colour: black
and grey only, with hatching, markers and line styles to tell series apart. Each chart is a PNG
in a data: URL (the pages' Content-Security-Policy allows no inline style, which SVG would
need), and every page also gives the numbers in a table."""

from __future__ import annotations

import base64
import io
import math
from collections.abc import Sequence

import matplotlib

matplotlib.use("Agg")  # no display: render to memory only

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

WIDTH, HEIGHT = 6.4, 3.2


def _png(figure: Figure) -> str:
    buffer = io.BytesIO()
    figure.tight_layout()
    figure.savefig(buffer, format="png", dpi=110)
    plt.close(figure)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def histogram(edges: Sequence[float], counts: Sequence[int], xlabel: str) -> str:
    figure, axes = plt.subplots(figsize=(WIDTH, HEIGHT))
    widths = [b - a for a, b in zip(edges, edges[1:], strict=False)]
    axes.bar(edges[:-1], counts, width=widths, align="edge", color="white", edgecolor="black", hatch="//")
    axes.set_xlabel(xlabel)
    axes.set_ylabel("Candidates")
    return _png(figure)


def characteristic_curve(groups: Sequence[tuple[float, float, int]], difficulty: float | None) -> str:
    """Empirical proportion correct by ability group (open circles, sized by n) against the
    Rasch curve for the item's difficulty (a solid line)."""
    figure, axes = plt.subplots(figsize=(WIDTH, HEIGHT))
    if difficulty is not None and math.isfinite(difficulty):
        thetas = [-4 + i * 0.05 for i in range(161)]
        axes.plot(thetas, [1 / (1 + math.exp(difficulty - t)) for t in thetas], color="black", linestyle="-", label="Rasch model")
    if groups:
        axes.scatter([g[0] for g in groups], [g[1] for g in groups], s=[max(12, min(120, g[2])) for g in groups],
                     facecolors="none", edgecolors="black", marker="o", label="Observed, by ability group")
    axes.set_ylim(-0.02, 1.02)
    axes.set_xlabel("Ability (logits)")
    axes.set_ylabel("Proportion correct")
    axes.legend(loc="lower right", frameon=False)
    return _png(figure)


def trend(periods: Sequence[str], facility: Sequence[float], discrimination: Sequence[float]) -> str:
    """Facility (solid, squares) and item-rest r (dashed, triangles) by period."""
    figure, axes = plt.subplots(figsize=(WIDTH, HEIGHT))
    axes.plot(periods, facility, color="black", linestyle="-", marker="s", label="Facility p")
    axes.plot(periods, discrimination, color="dimgray", linestyle="--", marker="^", label="Item-rest r")
    axes.set_ylim(-0.2, 1.0)
    axes.set_xlabel("Month of marking")
    axes.legend(loc="best", frameon=False)
    return _png(figure)
