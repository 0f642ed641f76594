"""The stage contract: reasons are checked, failures are rows (raised or yielded), every kind of
stage runs with items passing through it, and a document's pages stream one by one. (That the
two runners write the same output: tests/runners/test_equivalence.py.)"""

from __future__ import annotations

import weakref
from collections.abc import Iterable
from dataclasses import dataclass

import pytest

from curate.core.stage import (
    BatchStage,
    DatasetStage,
    Drop,
    Fail,
    GroupStage,
    ItemFailed,
    JoinStage,
    Keep,
    Stage,
    StageContractError,
    Tally,
    iter_item,
    run_item,
)
from curate.runners.local import run_steps
from curate.schemas.reasons import FailureReason, PageDropReason, SampleDropReason


@dataclass(frozen=True)
class Num:
    value: int
    drop_reason: str | None = None
    drop_detail: str | None = None


class DropOdd(Stage):
    name = "drop_odd"
    accepts = (Num,)
    emits = frozenset({SampleDropReason.TOO_FEW_IMAGES})

    def process(self, item: Num) -> Iterable:
        if item.value % 2:
            yield Drop(item, SampleDropReason.TOO_FEW_IMAGES, f"{item.value} is odd")
        else:
            yield Keep(item)


class FailOnSeven(BatchStage):
    """Raises on 7: the runner turns it into that item's failure row; the batch goes on."""

    name = "fail_on_seven"
    accepts = (Num,)
    emits = frozenset({FailureReason.GENERATOR_ERROR})
    error_reason = FailureReason.GENERATOR_ERROR

    def process_batch(self, items):
        return [ValueError("seven") if i.value == 7 else [Keep(Num(i.value * 10))] for i in items]


class SumByTens(GroupStage):
    name = "sum_by_tens"
    accepts = (Num,)

    def key(self, item: Num) -> str:
        return str(item.value // 10)

    def process_group(self, key: str, items: list[Num]) -> Iterable:
        yield Keep(Num(sum(i.value for i in items)))


class KeepAboveMean(DatasetStage):
    name = "above_mean"
    accepts = (Num,)
    emits = frozenset({SampleDropReason.BELOW_TOP_FRACTION})

    def summarize(self, item: Num) -> int:
        return item.value

    def combine(self, values: Iterable[int]) -> float:
        values = list(values)
        return sum(values) / len(values) if values else 0.0

    def decide(self, item: Num, mean: float) -> Iterable:
        yield Keep(item) if item.value >= mean else Drop(item, SampleDropReason.BELOW_TOP_FRACTION)


class OnePerLastDigit(JoinStage):
    """Items with the same last digit are duplicates; the smallest is kept."""

    name = "one_per_digit"
    accepts = (Num,)
    emits = frozenset({PageDropReason.EXACT_DUPLICATE})

    def key(self, item: Num) -> str:
        return str(item.value)

    def summarize(self, item: Num) -> int:
        return item.value % 10

    def verdicts(self, summaries):
        smallest: dict[int, int] = {}
        for key, digit in summaries:
            smallest[digit] = min(smallest.get(digit, 10**9), int(key))
        for key, digit in summaries:
            if int(key) != smallest[digit]:
                yield key, smallest[digit]

    def decide(self, item: Num, kept_instead: int | None) -> Iterable:
        if kept_instead is None:
            yield Keep(item)
        else:
            yield Drop(item, PageDropReason.EXACT_DUPLICATE, f"same digit as {kept_instead}")


def _steps():
    return [
        Tally("numbers", Num),
        OnePerLastDigit(),
        DropOdd(),
        FailOnSeven(),
        SumByTens(),
        KeepAboveMean(),
    ]


ITEMS = [Num(v) for v in (2, 3, 4, 7, 12, 14, 22, 31, 6)] + ["not a number"]


def _local():
    out: dict[str, list] = {"dropped": [], "failures": [], "tally:numbers": []}
    kept = list(
        run_steps(_steps(), ITEMS, lambda where, r: out[where].append(r), lambda n, v: None)
    )
    return kept, out


def test_every_kind_of_stage_runs_locally_with_pass_through_drops_and_failures():
    kept, out = _local()
    # duplicates by last digit: 12, 22 (of 2) and 14 (of 4); odd: 3, 7, 31; then 2, 4, 6 -> x10,
    # one group each (20, 40, 60); their mean is 40, so 20 falls below it
    assert [k for k in kept if not isinstance(k, Num)] == ["not a number"]  # passed through all
    assert sorted(n.value for n in kept if isinstance(n, Num)) == [40, 60]
    assert sorted((d.value, d.drop_reason) for d in out["dropped"]) == [
        (3, "too_few_images"),
        (7, "too_few_images"),
        (12, "exact_duplicate"),
        (14, "exact_duplicate"),
        (20, "below_top_fraction"),
        (22, "exact_duplicate"),
        (31, "too_few_images"),
    ]
    assert [d.drop_detail for d in out["dropped"] if d.value == 12] == ["same digit as 2"]
    assert out["failures"] == []  # 7 is odd: dropped before it could fail
    assert len(out["tally:numbers"]) == 9


def test_an_exception_becomes_a_failure_row_and_the_rest_goes_on():
    stage = FailOnSeven()
    out: dict[str, list] = {"failures": []}
    items = [Num(6), Num(7), Num(8)]
    kept = list(run_steps([stage], items, lambda where, r: out[where].append(r), lambda n, v: None))
    assert [k.value for k in kept] == [60, 80]
    (failure,) = out["failures"]
    assert (failure.item_id, failure.stage, failure.reason) == (
        "Num(value=7, drop_reason=None, drop_detail=None)",
        "fail_on_seven",
        FailureReason.GENERATOR_ERROR,
    )
    assert "ValueError: seven" in failure.detail


def test_undeclared_reasons_are_refused_and_bugs_are_not_hidden():
    class Sloppy(Stage):
        name = "sloppy"
        emits = frozenset({SampleDropReason.TOO_FEW_IMAGES})

        def process(self, item):
            yield Drop(item, SampleDropReason.NO_QA_GENERATED)

    with pytest.raises(StageContractError, match="no_qa_generated"):
        run_item(Sloppy(), Num(1))

    class Buggy(Stage):
        name = "buggy"  # no error_reason: an exception is a bug, not bad data

        def process(self, item):
            raise KeyError("oops")

    with pytest.raises(KeyError):
        run_item(Buggy(), Num(1))

    with pytest.raises(StageContractError, match="unregistered"):

        class Invented(Stage):
            emits = frozenset({"made_up_reason"})


def test_a_failure_raised_or_yielded_becomes_a_row_and_a_yielded_one_lets_the_item_go_on():
    """Stage logic never builds a row: ItemFailed, raised (the item ends) or yielded (a part of
    it failed: a page), becomes a Failure with the stage's name and the item's identity, or the
    part's when it names one."""

    class Document(Stage):
        name = "document"
        emits = frozenset({FailureReason.PAGE_RENDER_ERROR, FailureReason.DOCUMENT_TIMEOUT})

        def process(self, item):
            yield Keep(Num(1))
            yield ItemFailed(FailureReason.PAGE_RENDER_ERROR, "page 2: bad", "doc-2", "doc.pdf")
            yield Keep(Num(3))
            raise ItemFailed(FailureReason.DOCUMENT_TIMEOUT, "stopped at page 4")

    outcomes = run_item(Document(), "doc.pdf")
    assert [type(o).__name__ for o in outcomes] == ["Keep", "Fail", "Keep", "Fail"]
    page, document = outcomes[1].failure, outcomes[3].failure
    assert (page.item_id, page.source_uri, page.stage, page.reason, page.detail) == (
        "doc-2",
        "doc.pdf",
        "document",
        "page_render_error",
        "page 2: bad",
    )
    assert (document.item_id, document.reason, document.detail) == (
        "doc.pdf",
        "document_timeout",
        "stopped at page 4",
    )
    undeclared = iter([ItemFailed(FailureReason.FETCH_ERROR)])
    with pytest.raises(StageContractError, match="fetch_error"):  # declared reasons only
        list(iter_item(Document(), "x", lambda _: undeclared))


def test_fail_outcomes_are_checked_too():
    class Failing(Stage):
        name = "failing"
        emits = frozenset({FailureReason.OCR_ERROR})

        def process(self, item):
            from curate.schemas import Failure

            yield Fail(Failure("x", "x", "failing", FailureReason.FETCH_ERROR))

    with pytest.raises(StageContractError, match="fetch_error"):
        run_item(Failing(), Num(1))


class Pages(Stage):
    """One item in, many out (a document's pages): records which items are still alive."""

    name = "pages"

    def __init__(self, count: int):
        super().__init__()
        self.count_out = count
        self.alive: list[weakref.ref] = []
        self.most_alive = 0

    def process(self, item):
        for index in range(self.count_out):
            self.most_alive = max(self.most_alive, sum(ref() is not None for ref in self.alive))
            page = Page(index)
            self.alive.append(weakref.ref(page))
            yield Keep(page)


class Page:
    def __init__(self, index: int):
        self.index = index


def test_a_documents_pages_stream_on_one_by_one_in_both_runners():
    """A 1,000-page document never has all its pages in memory (issue 19, item 5): each page
    has gone on before the next is rendered, locally and in the Beam DoFn."""
    from curate.runners.beam.stages import _StageFn

    local = Pages(200)
    for _ in run_steps([local], [Num(1)], lambda where, record: None, lambda n, v: None):
        pass
    assert local.most_alive <= 2

    on_beam = Pages(200)
    fn = _StageFn(on_beam)
    for _ in fn.process(Num(1)):
        pass
    assert on_beam.most_alive <= 2
