"""Durations a follow-up or cross-image answer states, recomputed from the dates it works
from (the strong-model simulation's annual report: "about five months (151 days)" was
rejected, "about three months" kept)."""

from __future__ import annotations

import pytest

from curate.stages.generators.checks import claims_grounded
from curate.stages.generators.durations import dates, stated, without_durations

AGM = "the year ended March 31, 2022; the AGM is to be held on 29th August, 2022"


def test_dates_are_read_once_at_their_most_precise():
    assert dates("year ended March 31, 2022 ... held on 29th August, 2022") == [
        (2022, 3, 31),
        (2022, 8, 29),
    ]
    assert dates("between January 1959 and February 2001 (2001-02-28)") == [
        (2001, 2, 28),
        (1959, 1, None),
        (2001, 2, None),
    ]
    assert dates("start = c(1985,12), end = c(2001, 2); from 06/1990; 13/1990") == [
        (1985, 12, None),  # R's time-series dates
        (2001, 2, None),
        (1990, 6, None),
        (1990, None, None),  # there is no 13th month: the year alone is a date
    ]
    assert dates("in 1961, version 12.2001, on February 30, 2020") == [
        (1961, None, None),
        (2020, None, None),  # there is no 30th of February: the year alone is a date
    ]


def test_stated_durations_read_number_words_and_units():
    assert [(v, u) for _, v, u in stated("about five months (151 days), a 5-year plan")] == [
        (5, "months"),
        (151, "days"),
        (5, "years"),
    ]
    assert [(v, u) for _, v, u in stated("506 monthly observations, 9 annual reports")] == [
        (506, "months"),  # a count of periods said by their adjective
        (9, "years"),
    ]
    assert stated("the 2021 year-end, monthly data, one of the rules") == []


@pytest.mark.parametrize(
    ("claim", "kept"),
    [
        (f"{AGM}: about five months (151 days) later.", True),
        (f"{AGM}: about 21 weeks.", True),
        (f"{AGM}: about three months later.", False),  # worked out wrongly
        (f"{AGM}: 148 days.", False),
        ("From January 1959 to February 2001 is 42 years and 2 months.", True),
        ("From January 1959 to February 2001 is 40 years and 2 months.", False),
        ("From January 1959 to February 2001 is 42 years and 5 months.", False),
        ("Proposed in 1961, published in 1988: 27 years later.", True),
        ("Proposed in 1961, published in 1988: 37 years later.", False),
        ("The operator has 30 days to comply.", True),  # the page states it
        ("The operator has 60 days to comply.", False),
        ("January 1959 to February 2001 gives 506 monthly observations.", True),
        ("January 1959 to February 2001 gives 510 monthly observations.", False),
    ],
)
def test_a_duration_is_on_the_page_or_lies_between_two_of_the_dates_it_works_from(claim, kept):
    page = f"{AGM}. Within 30 days after the effective date."
    rest = without_durations(claim, page, claim)
    assert (rest is not None) is kept
    if kept:  # what is left for the other checks has no duration in it
        assert stated(rest) == []


@pytest.mark.parametrize(
    ("claim", "kept"),
    [
        ("It starts one month earlier, in December 1985, before January 1986.", True),
        ("It starts in November 1985.", False),  # the page gives no such month
        ("It starts in December 1984.", False),  # nor that year
    ],
)
def test_a_month_the_page_gives_in_figures_is_no_invented_name(claim, kept):
    page = "window(x, start = c(1985,12)); the model data: start = c(1986,1)"
    rest = without_durations(claim, page, f"{page}\n{claim}")
    assert rest is not None and (claims_grounded(rest, page) is kept)
