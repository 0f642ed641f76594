"""Figures as a page prints them ("4.1", "+12%", "$6,205", "1,284") and arithmetic on them
that keeps their form: a difference of two percentages is in percentage points, of two sums
of money in the same currency, with as many decimals as the figures have."""

from __future__ import annotations

import re
from dataclasses import dataclass

_FIGURE = re.compile(
    r"(?P<sign>[-+−]?)\(?(?P<currency>[$€£¥₹]?)\s?(?P<number>\d{1,3}(?:,\d{3})+|\d+)"
    r"(?P<decimals>\.\d+)?\)?\s?(?P<percent>%?)"
)


@dataclass(frozen=True)
class Figure:
    """A number as printed: its value, and how it is written."""

    text: str
    value: float
    decimals: int
    currency: str = ""
    percent: bool = False

    def same_form(self, other: Figure) -> bool:
        return (self.currency, self.percent) == (other.currency, other.percent)


def figure(text: str) -> Figure | None:
    """The figure a cell or value holds, or None when it holds anything else ("n/a", "3 to 5",
    "2019", a word)."""
    match = _FIGURE.fullmatch(text.strip())
    if not match:
        return None
    number = float(match["number"].replace(",", "") + (match["decimals"] or ""))
    negative = match["sign"] in ("-", "−") or text.strip().startswith("(")
    return Figure(
        text.strip(),
        -number if negative else number,
        len(match["decimals"] or ".") - 1,
        match["currency"],
        bool(match["percent"]),
    )


def shown(value: float, like: list[Figure], sign: bool = False) -> str:
    """A computed value written like the figures it came from: their decimals, currency and
    thousands separators; `sign` for a change ("+0.5", "-3")."""
    decimals = max((f.decimals for f in like), default=0)
    grouped = any("," in f.text for f in like)
    number = f"{abs(value):,.{decimals}f}" if grouped else f"{abs(value):.{decimals}f}"
    same = like and all(f.currency == like[0].currency for f in like)
    currency = like[0].currency if same else ""
    text = f"{currency}{number}"
    if sign:
        text = ("+" if value > 0 else "-" if value < 0 else "") + text
    elif value < 0:
        text = "-" + text
    return text
