"""QA turns outside the length bounds (`quality.min_question_chars` and the like) move to
`rejected_qa`, whichever backend wrote them."""

from __future__ import annotations

from dataclasses import replace

from curate.core.config import QualityOptions
from curate.document.conversation import build_conversation
from curate.schemas import QAItem, SampleRecord
from curate.schemas.reasons import RejectReason


def _length_reason(item: QAItem, options: QualityOptions) -> str | None:
    q, a = len(item.question.strip()), len(item.answer.strip())
    if (options.min_question_chars is not None and q < options.min_question_chars) or (
        options.max_question_chars is not None and q > options.max_question_chars
    ):
        return RejectReason.QUESTION_LENGTH
    if (options.min_answer_chars is not None and a < options.min_answer_chars) or (
        options.max_answer_chars is not None and a > options.max_answer_chars
    ):
        return RejectReason.ANSWER_LENGTH
    return None


def filter_qa_lengths(sample: SampleRecord, options: QualityOptions) -> SampleRecord:
    """Move turns out of the length bounds to rejected_qa; an extractive turn and its
    self-explain follow-up leave together, so the pairing stays intact."""
    kept, rejected = [], list(sample.rejected_qa)
    skip_next = False
    for i, item in enumerate(sample.qa):
        if skip_next:
            skip_next = False
            rejected.append(replace(item, reject_reason=rejected[-1].reject_reason))
            continue
        reason = _length_reason(item, options)
        if reason:
            rejected.append(replace(item, reject_reason=reason))
            follows = i + 1 < len(sample.qa) and sample.qa[i + 1].kind == "self_explain"
            skip_next = item.kind == "extractive" and follows
        else:
            kept.append(item)
    if len(kept) == len(sample.qa):
        return sample
    return replace(
        sample,
        qa=kept,
        rejected_qa=rejected,
        conversations=build_conversation(kept, sample.num_images),
    )
