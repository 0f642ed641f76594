"""Charts for the report, drawn with matplotlib and returned as inline SVG text.

Uses `matplotlib.figure.Figure` directly (no pyplot), so no GUI backend or global state is
involved and the report can be built on a headless worker.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence

from matplotlib import rcParams
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

rcParams["svg.fonttype"] = "none"  # text stays text: smaller files, the page's fonts
COLOR = "#3b6ea8"


def _svg(fig: Figure) -> str:
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", bbox_inches="tight")
    text = buffer.getvalue()
    return text[text.index("<svg") :]  # drop the XML prolog and doctype: inline in HTML


def _empty(ax, message: str) -> None:
    ax.set_axis_off()
    ax.text(0.5, 0.5, message, ha="center", va="center", transform=ax.transAxes, color="#777")


def histogram(values: Sequence[float], title: str, xlabel: str, bins: int = 30) -> str:
    fig = Figure(figsize=(4.2, 2.6), dpi=100)
    ax = fig.add_subplot()
    if values:
        ax.hist(values, bins=bins, color=COLOR, edgecolor="white", linewidth=0.4)
    else:
        _empty(ax, "no values")
    ax.set_title(title, fontsize=10)
    ax.set_xlabel(xlabel, fontsize=8)
    ax.set_ylabel("count", fontsize=8)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.tick_params(labelsize=7)
    ax.spines[["top", "right"]].set_visible(False)
    return _svg(fig)


def bars(counts: Mapping[str, int], title: str, horizontal: bool = False) -> str:
    labels, values = [str(k) for k in counts], list(counts.values())
    height = max(2.6, 0.3 * len(labels) + 1) if horizontal else 2.6
    fig = Figure(figsize=(4.2, height), dpi=100)
    ax = fig.add_subplot()
    if horizontal:
        ax.barh(labels, values, color=COLOR)
        ax.invert_yaxis()
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    else:
        ax.bar(labels, values, color=COLOR)
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    if not labels:
        _empty(ax, "nothing to show")
    ax.set_title(title, fontsize=10)
    ax.tick_params(labelsize=7)
    ax.spines[["top", "right"]].set_visible(False)
    return _svg(fig)
