"""Group consecutive pages of one document into multi-image samples.

Windows are planned from the page count and the document's section starts, which every page
carries, so each page knows its window without seeing the others: a Beam GroupByKey on
(doc_id, window) then holds at most `max_images` pages.
"""

from __future__ import annotations

from collections.abc import Iterable

from curate.core.config import SampleOptions
from curate.core.stage import Drop, GroupStage, Keep, Outcome
from curate.document.layout import balanced, plan_section_windows
from curate.schemas import ContextItem, PageRecord, SampleRecord, stable_id
from curate.schemas.reasons import SampleDropReason


def plan_windows(
    page_count: int, options: SampleOptions, sections: list[int] | None = None
) -> list[tuple[int, int]]:
    """Split pages [0, page_count) into contiguous windows of at most max_images pages.

    With `sections` (the first pages of the document's sections), windows follow them: a new
    section opens a new window, and a long section is split into balanced windows. Without,
    balanced fixed windows (9 pages, max 4 -> 3+3+3), which avoid a short tail window.
    """
    if page_count <= 0:
        return []
    if not sections:
        return balanced(0, page_count, options.max_images)
    starts = [False] * page_count
    for start in sections:
        if 0 <= start < page_count:
            starts[start] = True
    return plan_section_windows(starts, options.max_images)


def window_start(page: PageRecord, options: SampleOptions) -> int:
    """The first page index of the window this page belongs to."""
    for start, end in plan_windows(page.page_count, options, page.sections):
        if start <= page.page_index < end:
            return start
    return page.page_index  # page_index beyond page_count: a window of its own


def window_key(page: PageRecord, options: SampleOptions) -> str:
    return f"{page.doc_id}:{window_start(page, options):06d}"


def assemble_sample(pages: Iterable[PageRecord], options: SampleOptions) -> SampleRecord:
    """One sample from the pages of one window, in document order.

    A window with fewer than min_images pages comes back with drop_reason set, so it is kept in
    the dropped output rather than lost.
    """
    ordered = sorted(pages, key=lambda p: p.page_index)
    first = ordered[0]
    sample = SampleRecord(
        sample_id=stable_id(first.doc_id, *(p.page_id for p in ordered)),
        doc_id=first.doc_id,
        source_uri=first.source_uri,
        source_sha256=first.source_sha256,
        source_type=first.source_type,
        linked_from=first.linked_from,
        page_ids=[p.page_id for p in ordered],
        page_indices=[p.page_index for p in ordered],
        images=[p.image for p in ordered],
        image_sizes=[(p.width, p.height) for p in ordered],
        image_blocks=[list(p.text_blocks) for p in ordered],
        context=[
            ContextItem(kind=c.kind, text=c.text, image_index=i)
            for i, p in enumerate(ordered)
            for c in p.context
        ],
    )
    if len(ordered) < options.min_images:
        sample.drop_reason = SampleDropReason.TOO_FEW_IMAGES
        sample.drop_detail = f"{len(ordered)} image(s) < samples.min_images={options.min_images}"
    return sample


class AssembleSamples(GroupStage):
    """Pages -> one sample per window of consecutive pages; too-small windows are dropped."""

    name = "samples"
    accepts = (PageRecord,)
    emits = frozenset({SampleDropReason.TOO_FEW_IMAGES})

    def __init__(self, options: SampleOptions):
        super().__init__(options)

    def key(self, page: PageRecord) -> str:
        return window_key(page, self.options)

    def process_group(self, key: str, pages: list[PageRecord]) -> Iterable[Outcome]:
        sample = assemble_sample(pages, self.options)
        if sample.drop_reason:
            yield Drop(sample, sample.drop_reason, sample.drop_detail)
        else:
            yield Keep(sample)
