"""Durations an explanation or a cross-image answer states ("about five months", "151 days",
"42 years"), recomputed from the dates it works from.

A strong model computes how long lies between two dates; the page states neither the result
nor, often, a number of months at all, so a right duration looked invented and a wrong one
("about three months" from March 31 to August 29) passed, its number being a word. Here a
stated duration is kept only where the source states it (with its unit) or where it lies
between two dates of the text it is worked from, as a person counts: whole or rounded, and a
span of months counted with or without its last month.
"""

from __future__ import annotations

import re
from datetime import date

from curate.core.text import normalize
from curate.stages.generators.checks import NUMBER_WORDS

_MONTH_NAMES = (
    "january february march april may june july august september october november december"
).split()
_MONTH = (
    r"(jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
    r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
_DAY = r"(\d{1,2})(?:st|nd|rd|th)?"
_YEAR = r"((?:1[6-9]|20)\d\d)"
_DATES = (  # (pattern, where year, month and day are in its groups), most precise first
    (re.compile(r"\b(\d{4})-(\d\d)-(\d\d)\b"), (1, 2, 3)),
    (re.compile(rf"\b{_MONTH}\s+{_DAY},?\s+{_YEAR}\b"), (3, 1, 2)),
    (re.compile(rf"\b{_DAY}(?:\s+of)?\s+{_MONTH},?\s+{_YEAR}\b"), (3, 2, 1)),
    (re.compile(rf"\b{_MONTH},?\s+{_YEAR}\b"), (2, 1, None)),
    (re.compile(rf"\bc\(\s*{_YEAR}\s*,\s*(\d{{1,2}})\s*\)"), (1, 2, None)),  # R's ts: c(1985, 12)
    (re.compile(rf"(?<![\d/.])(\d{{1,2}})/{_YEAR}\b"), (2, 1, None)),  # 12/1985
    (re.compile(rf"(?<![\w.,]){_YEAR}(?![\w]|[.,]\d)"), (1, None, None)),
)
_UNITS = {"day": "days", "week": "weeks", "month": "months", "year": "years"}
# a count of periods said by their adjective: "506 monthly observations" are 506 months
_PERIODIC = {
    "daily": "day",
    "weekly": "week",
    "monthly": "month",
    "yearly": "year",
    "annual": "year",
}
_STATED = re.compile(
    rf"\b(\d+(?:\.\d+)?|{'|'.join(sorted(NUMBER_WORDS, key=len, reverse=True))})"
    r"(?:(?:\s*-\s*|\s+)(?:and\s+a\s+half\s+)?(day|week|month|year)s?"
    rf"|\s+({'|'.join(_PERIODIC)}))\b",
    re.IGNORECASE,
)


def _month(name: str) -> int:
    return next(i for i, full in enumerate(_MONTH_NAMES, start=1) if full.startswith(name[:3]))


def dates(text: str) -> list[tuple[int, int | None, int | None]]:
    """The dates a text names, as (year, month or None, day or None), each span read once at
    its most precise ("29th August, 2022" is one date, not also the year 2022)."""
    text = normalize(text)
    found, taken = [], []
    for pattern, (y, m, d) in _DATES:
        for match in pattern.finditer(text):
            if any(match.start() < end and start < match.end() for start, end in taken):
                continue
            month = match.group(m) if m else None
            try:
                parsed = (
                    int(match.group(y)),
                    (int(month) if month.isdigit() else _month(month)) if month else None,
                    int(match.group(d)) if d else None,
                )
                if parsed[1] is not None and not 1 <= parsed[1] <= 12:
                    continue
                if parsed[2] is not None:
                    date(*parsed)  # a real day of a real month
            except ValueError:
                continue
            taken.append(match.span())
            found.append(parsed)
    return found


def _between(a: tuple, b: tuple) -> tuple[dict[str, set[int]], set[tuple[int, int]]]:
    """How long lies between two dates, in each unit a person may count it in; and the
    (years, months) it is as years and months ("42 years and 2 months")."""
    (y1, m1, d1), (y2, m2, d2) = sorted((a, b), key=lambda t: (t[0], t[1] or 0, t[2] or 0))
    spans: dict[str, set[int]] = {unit: set() for unit in _UNITS.values()}
    if m1 is None or m2 is None:  # years alone
        spans["years"] |= {y2 - y1, y2 - y1 + 1}
        return spans, set()
    months = (y2 - y1) * 12 + m2 - m1
    counted = {months, months + 1}  # the last month counted or not ("Jan 1959 to Feb 2001")
    if d1 is not None and d2 is not None:
        days = (date(y2, m2, d2) - date(y1, m1, d1)).days
        spans["days"] |= {days, days + 1}
        spans["weeks"] |= {days // 7, round(days / 7)}
        whole = months - (d2 < d1)
        counted = {whole, round(days / 30.44)}
    spans["months"] |= counted
    spans["years"] |= {m // 12 for m in counted} | {round(m / 12) for m in counted}
    return spans, {divmod(m, 12) for m in counted}


def stated(text: str) -> list[tuple[str, float, str]]:
    """(phrase, number, unit) for every duration a text states: "about five months" is
    (..., 5, "months"); "a 5-year plan" is (..., 5, "years")."""
    found = []
    for match in _STATED.finditer(text):
        period = match.group(2) or _PERIODIC[match.group(3).lower()]
        number, unit = match.group(1).lower(), _UNITS[period.lower()]
        value = float(NUMBER_WORDS.get(number, number))
        if value >= 1000:  # "the 2021 year-end" names a year
            continue
        found.append((match.group(0), value + (0.5 if "half" in match.group(0) else 0), unit))
    return found


def without_durations(claim: str, source: str, worked_from: str) -> str | None:
    """The claim without the durations it states rightly, for the other checks to read; None
    when a duration is neither in the source (with its unit) nor between two dates of
    `worked_from` (the claim, and the question or facts it answers)."""
    said = {(value, unit) for _, value, unit in stated(source)}
    known = dates(worked_from)
    spans: dict[str, set[int]] = {unit: set() for unit in _UNITS.values()}
    parts: set[tuple[int, int]] = set()
    for i, a in enumerate(known):
        for b in known[i + 1 :]:
            between, as_years = _between(a, b)
            parts |= as_years
            for unit, values in between.items():
                spans[unit] |= values
    claimed = stated(claim)
    years = {value for _, value, unit in claimed if unit == "years"}
    rest = claim
    for phrase, value, unit in claimed:
        remainder = unit == "months" and any((y, value) in parts for y in years)
        if (value, unit) not in said and value not in spans[unit] and not remainder:
            return None
        rest = rest.replace(phrase, " ", 1)
    return _months_in_figures(rest, source)


_NAMED_MONTH = re.compile(rf"\b{_MONTH}(?=(?:\s+{_DAY},?)?\s+{_YEAR}\b)", re.IGNORECASE)


def _months_in_figures(claim: str, source: str) -> str:
    """The claim without the month names of the dates the source gives in figures ("December
    1985" where the page prints c(1985,12)): the name check would call the month an invented
    name. The year stays, for the number check."""
    in_figures = {(year, month) for year, month, _ in dates(source) if month is not None}

    def unnamed(match: re.Match) -> str:
        year = int(re.search(_YEAR, claim[match.end() :]).group(1))
        return " " if (year, _month(match.group(1).lower())) in in_figures else match.group(0)

    return _NAMED_MONTH.sub(unnamed, claim)
