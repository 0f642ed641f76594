"""The stage contract: every step of a job, the same with or without Beam.

A stage has typed options, builds its heavy objects once in `setup()` (a browser, an OCR
engine, a model, an LLM client), and turns items into outcomes:

    Keep(item)                  carry it on to the next stage
    Drop(item, reason, detail)  valid data we chose not to keep: dropped/ or dropped_pages/
    Fail(failure)               could not be processed: the dead-letter output

A stage declares every reason it may emit (`emits`); the runner checks each emitted reason
against that declaration, routes the outcomes (`route`) and does all the counting, so no stage
repeats that. Stage logic never builds a failure row itself: it raises `ItemFailed` with a
declared reason (or yields one, to record the failure of a part, a page, and go on), and
`Stage.failed` makes the row. Any other exception raised on one item becomes a Fail with the
stage's `error_reason` (or, with none, stops the job: a bug, not bad data).

Kinds, by how much of the data a decision needs:

    Stage         process(item)                  one item at a time (most stages)
    BatchStage    process_batch(items)           models and LLM calls, a batch at a time
    GroupStage    key(item), process_group()     items sharing a key: the pages of a window
    DatasetStage  summarize(item) -> combine()   one value over the whole dataset (a score
                  -> decide(item, value)         threshold), then a decision per item
    JoinStage     summarize(item) -> verdicts()  a verdict per item that needs the whole dataset
                  -> decide(item, verdict)       (duplicate clusters), joined back by key

A whole-dataset stage computes its value in one process (`combine`, `verdicts`); where that
would not scale, it names a distributed version (`scale_out`) that the Beam runner has
registered under that name, so no runner needs to know a concrete stage.

Items a stage does not `accept` pass through it untouched. A plan is a list of stages plus two
markers: `Tally` (count items here for the manifest) and `Spread` (rebalance work). Two runners
execute stages: `curate/runners/local.py` over plain iterators, and `curate/runners/beam/`
on Apache Beam.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, fields, replace
from typing import Any, ClassVar

from curate.schemas import Failure, LinkedDocument, PageRecord, SampleRecord
from curate.schemas.reasons import Reason, is_registered


@dataclass(frozen=True)
class Keep:
    item: Any


@dataclass(frozen=True)
class Drop:
    item: Any
    reason: str
    detail: str | None = None


@dataclass(frozen=True)
class Fail:
    failure: Failure


Outcome = Keep | Drop | Fail


@dataclass(frozen=True)
class Resources:
    """What one instance of a stage needs, as the runners read it: the batch a BatchStage
    gets, the accelerator its Beam step asks for, and whether one instance serves a machine."""

    batch_size: int = 1
    accelerator: str | None = None  # a Beam resource hint, e.g. "type:nvidia-l4;count:1"
    shared: bool = False  # one instance per machine rather than per worker process (GPU models)


class ItemFailed(Exception):
    """One item, or a part of it (a page of a document), could not be processed, for a reason
    the stage declares. Raise it to end the item's work; yield it to record the failure and go
    on. `item_id` and `source_uri` name the part when it is not the item itself."""

    def __init__(
        self,
        reason: str,
        detail: str = "",
        item_id: str | None = None,
        source_uri: str | None = None,
    ):
        super().__init__(detail)
        self.reason, self.detail = reason, detail
        self.item_id, self.source_uri = item_id, source_uri

    def __reduce__(self):  # pickled whole (checkpoints, Beam), not as Exception(detail)
        return (ItemFailed, (self.reason, self.detail, self.item_id, self.source_uri))


class StageContractError(RuntimeError):
    """A stage emitted a reason it did not declare: a bug in the stage, not in the data."""


def identity(item: Any) -> tuple[str, str]:
    """(item id, source URI) of anything a stage handles, for failure rows."""
    if isinstance(item, PageRecord):
        return item.page_id, item.source_uri
    if isinstance(item, SampleRecord):
        return item.sample_id, item.source_uri
    if isinstance(item, LinkedDocument):
        return item.url, item.url
    return str(item), str(item)


class Stage:
    """One item in, outcomes out. Subclasses set `name`, `accepts`, `emits` and `process`."""

    name: ClassVar[str] = ""
    accepts: ClassVar[tuple[type, ...]] = (object,)
    emits: ClassVar[frozenset[str]] = frozenset()
    error_reason: ClassVar[str | None] = None  # None: an exception is a bug and stops the job

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        unregistered = [r for r in cls.emits if not isinstance(r, Reason) or not is_registered(r)]
        if unregistered:
            raise StageContractError(f"{cls.__name__} declares unregistered reasons {unregistered}")

    def __init__(self, options: Any = None):
        self.options = options
        self._count: Callable[[str, int], None] | None = None

    # lifecycle ---------------------------------------------------------------------------

    def setup(self) -> None:
        """Build heavy objects here, once per worker (never in __init__: stages are pickled)."""

    def teardown(self) -> None:
        """Release what setup() built."""

    def resources(self) -> Resources:
        return Resources()

    # work --------------------------------------------------------------------------------

    def process(self, item: Any) -> Iterable[Outcome]:
        raise NotImplementedError

    def handles(self, item: Any) -> bool:
        return isinstance(item, self.accepts)

    # used by runners ---------------------------------------------------------------------

    def bind_counter(self, count: Callable[[str, int], None]) -> None:
        self._count = count

    def count(self, name: str, value: int = 1) -> None:
        """A counter shown at the end of a run (and in Beam's metrics). Call it from the thread
        that runs `process`: Beam's metrics belong to that thread, not to helper threads."""
        if self._count is not None and value:
            self._count(name, value)

    def checked(self, outcome: Outcome) -> Outcome:
        """The outcome, after checking its reason against the stage's declaration."""
        reason = (
            outcome.reason
            if isinstance(outcome, Drop)
            else (outcome.failure.reason if isinstance(outcome, Fail) else None)
        )
        if reason is not None and reason not in self.emits:
            raise StageContractError(
                f"stage {self.name!r} emitted {reason!r}, not among {sorted(self.emits)}"
            )
        return outcome

    def failed(self, item: Any, error: Exception) -> Fail:
        """The Fail for an exception raised (or an ItemFailed yielded) on `item`, or the
        exception again when it is a bug."""
        item_id, source_uri = identity(item)
        item_id = getattr(error, "item_id", None) or item_id
        source_uri = getattr(error, "source_uri", None) or source_uri
        reason = getattr(error, "reason", None)
        if reason is not None and reason in self.emits:  # with what its LLM calls cost, if any
            usage = getattr(error, "usage", None)
            return Fail(Failure(item_id, source_uri, self.name, reason, str(error), usage))
        if isinstance(error, ItemFailed):
            raise StageContractError(
                f"stage {self.name!r} failed an item as {error.reason!r}, not among "
                f"{sorted(self.emits)}"
            ) from error
        if self.error_reason is None:
            raise error
        detail = f"{type(error).__name__}: {error}\n" + "".join(
            traceback.format_exception(error, limit=3)
        )
        return Fail(Failure(item_id, source_uri, self.name, self.error_reason, detail))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name})"


class BatchStage(Stage):
    """A batch of items in; for each item, its outcomes (or the exception it raised)."""

    def process(self, item: Any) -> Iterable[Outcome]:
        (result,) = self.process_batch([item])
        if isinstance(result, Exception):
            raise result
        return result

    def process_batch(self, items: list[Any]) -> list[Iterable[Outcome] | Exception]:
        raise NotImplementedError

    def resources(self) -> Resources:
        return Resources(batch_size=16)


class GroupStage(Stage):
    """Items with the same key are processed together (one key's items fit in memory)."""

    def key(self, item: Any) -> str:
        raise NotImplementedError

    def process_group(self, key: str, items: list[Any]) -> Iterable[Outcome]:
        raise NotImplementedError


class DatasetStage(Stage):
    """A decision per item that depends on one value computed over the whole dataset."""

    scale_out: ClassVar[str | None] = None  # a distributed `combine` the Beam runner registered

    def summarize(self, item: Any) -> Any | None:
        """A small value per item (None: the item does not count towards `combine`)."""
        raise NotImplementedError

    def combine(self, summaries: Iterable[Any]) -> Any:
        """The dataset-wide value, from every item's summary."""
        raise NotImplementedError

    def decide(self, item: Any, combined: Any) -> Iterable[Outcome]:
        raise NotImplementedError


class JoinStage(Stage):
    """A verdict per item that needs every item's summary (clusters), joined back by key."""

    scale_out: ClassVar[str | None] = None  # a distributed `verdicts` the Beam runner registered

    def key(self, item: Any) -> str:
        raise NotImplementedError

    def summarize(self, item: Any) -> Any:
        raise NotImplementedError

    def verdicts(self, summaries: Iterable[tuple[str, Any]]) -> Iterable[tuple[str, Any]]:
        """(key, verdict) for the items that get one, from every (key, summary)."""
        raise NotImplementedError

    def decide(self, item: Any, verdict: Any | None) -> Iterable[Outcome]:
        raise NotImplementedError


@dataclass(frozen=True)
class Tally:
    """Not a stage: counts the items of one type passing this point, for the manifest."""

    name: str
    of: type


@dataclass(frozen=True)
class Spread:
    """Not a stage: spread items over workers here (after a step that fans out into many)."""


# -------------------------------------------------------------- what every runner does


def _counted(stage: Stage, outcome: Outcome) -> Outcome:
    stage.checked(outcome)
    if isinstance(outcome, Fail):
        stage.count(f"failures.{outcome.failure.reason}")
    elif isinstance(outcome, Drop):
        prefix = "dropped_pages" if isinstance(outcome.item, PageRecord) else "dropped"
        stage.count(f"{prefix}.{outcome.reason}")
    return outcome


KEPT, DROPPED, DROPPED_PAGES, FAILURES = "kept", "dropped", "dropped_pages", "failures"
ASIDE = (DROPPED, DROPPED_PAGES, FAILURES)  # where outcomes go that do not flow on


def route(outcome: Outcome) -> tuple[str, Any]:
    """(where, record) for an outcome: kept items flow on to the next step; dropped records
    (their reason set) and failure rows go aside to their outputs. Both runners route by it."""
    if isinstance(outcome, Keep):
        return KEPT, outcome.item
    if isinstance(outcome, Drop):
        record = dropped(outcome)
        return (DROPPED_PAGES if isinstance(record, PageRecord) else DROPPED), record
    return FAILURES, outcome.failure


def iter_item(
    stage: Stage,
    item: Any,
    work: Callable[[Any], Iterable[Outcome]] | None = None,
    subject: Any = None,
) -> Iterator[Outcome]:
    """The checked, counted outcomes of `work(item)` (default: `stage.process`), as they come:
    a 5,000-page document's pages flow on one by one, never held together. An exception
    becomes a Fail for `subject` (default: the item), after what was produced before it."""
    try:
        for outcome in (work or stage.process)(item):
            if isinstance(outcome, ItemFailed):  # a part failed; the item goes on
                outcome = stage.failed(item if subject is None else subject, outcome)
            yield _counted(stage, outcome)
    except StageContractError:
        raise
    except Exception as err:
        yield _counted(stage, stage.failed(item if subject is None else subject, err))


def run_item(
    stage: Stage,
    item: Any,
    work: Callable[[Any], Iterable[Outcome]] | None = None,
    subject: Any = None,
) -> list[Outcome]:
    """`iter_item`'s outcomes as a list."""
    return list(iter_item(stage, item, work, subject))


def run_batch(
    stage: BatchStage, items: list[Any], results: list | None = None
) -> list[list[Outcome]]:
    """Per item, its checked, counted outcomes; an item's exception becomes its Fail.
    `results` are `stage.process_batch(items)` when already computed (a shared model)."""
    results = stage.process_batch(items) if results is None else results
    per_item: list[list[Outcome]] = []
    for item, result in zip(items, results, strict=True):
        if isinstance(result, Exception):
            per_item.append([_counted(stage, stage.failed(item, result))])
        else:
            per_item.append([_counted(stage, outcome) for outcome in result])
    return per_item


def records(stage: Stage, item: Any) -> Iterator[Any]:
    """What a stage makes of one item, as its outputs would hold it and in the order it comes:
    kept items, dropped records (their reason set) and Failure rows. For notebooks, tests and
    scripts; the stage is set up before and torn down after."""
    stage.setup()
    try:
        for outcome in iter_item(stage, item):
            yield route(outcome)[1]
    finally:
        stage.teardown()


def dropped(drop: Drop) -> Any:
    """The dropped record as written out: its reason (and detail, where it has one) set."""
    names = {f.name for f in fields(drop.item)}
    changes = {"drop_reason": drop.reason}
    if "drop_detail" in names and drop.detail is not None:
        changes["drop_detail"] = drop.detail
    return replace(drop.item, **changes)
