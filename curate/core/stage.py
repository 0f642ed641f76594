"""The stage contract: every step of a job, the same with or without Beam.

A stage has typed options, builds its heavy objects once in `setup()` (a browser, an OCR
engine, a model, an LLM client), and turns items into outcomes:

    Keep(item)                  carry it on to the next stage
    Drop(item, reason, detail)  valid data we chose not to keep: dropped/ or dropped_pages/
    Fail(failure)               could not be processed: the dead-letter output

A stage declares every reason it may emit (`emits`); the runner checks each emitted reason
against that declaration, routes the outcomes and does all the counting, so no stage repeats
that. An exception raised on one item becomes a Fail with the stage's `error_reason` (or the
exception's own `reason`), and the job goes on.

Kinds, by how much of the data a decision needs:

    Stage         process(item)                  one item at a time (most stages)
    BatchStage    process_batch(items)           models and LLM calls, a batch at a time
    GroupStage    key(item), process_group()     items sharing a key: the pages of a window
    DatasetStage  summarize(item) -> combine()   one value over the whole dataset (a score
                  -> decide(item, value)         threshold), then a decision per item
    JoinStage     summarize(item) -> verdicts()  a verdict per item that needs the whole dataset
                  -> decide(item, verdict)       (duplicate clusters), joined back by key

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
    """What one instance of a stage needs; runners size workers and batches from it."""

    cpus: float = 1.0
    gpus: float = 0.0
    batch_size: int = 1
    accelerator: str | None = None  # a Beam resource hint, e.g. "type:nvidia-l4;count:1"
    shared: bool = False  # one instance per machine rather than per worker process (GPU models)


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
        """The Fail for an exception raised on `item`, or the exception again when it is a bug."""
        reason = getattr(error, "reason", None)
        if reason is not None and reason in self.emits:  # with what its LLM calls cost, if any
            usage = getattr(error, "usage", None)
            return Fail(Failure(*identity(item), self.name, reason, str(error), usage))
        if self.error_reason is None:
            raise error
        detail = f"{type(error).__name__}: {error}\n" + "".join(
            traceback.format_exception(error, limit=3)
        )
        return Fail(Failure(*identity(item), self.name, self.error_reason, detail))

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


def dropped(drop: Drop) -> Any:
    """The dropped record as written out: its reason (and detail, where it has one) set."""
    names = {f.name for f in fields(drop.item)}
    changes = {"drop_reason": drop.reason}
    if "drop_detail" in names and drop.detail is not None:
        changes["drop_detail"] = drop.detail
    return replace(drop.item, **changes)
