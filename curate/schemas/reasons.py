"""Every reason string curate writes, defined once: one enum per tier.

- `FailureReason`: an input or item could not be processed (the dead-letter output).
- `PageDropReason`: a valid page filtered out before samples are built (`dropped_pages/`).
- `SampleDropReason`: a valid sample filtered out (`dropped/`).
- `RejectReason`: one QA turn failed a check; it stays in the sample's `rejected_qa`.
- `ScoreNote`: why a difficulty score is missing (`scores.note`).
- `ExportSkip`: what an export format cannot express and left out (counted, never silent).

Members are strings, so they are written as they are. Each carries the sentence
docs/schema.md shows for it; that table is generated from here (`reason_tables`).
"""

from __future__ import annotations

from enum import StrEnum


class Reason(StrEnum):
    """A reason string with the sentence that explains it."""

    description: str

    def __new__(cls, value: str, description: str = ""):
        member = str.__new__(cls, value)
        member._value_ = value
        member.description = description
        return member


class FailureReason(Reason):
    UNSUPPORTED_FORMAT = "unsupported_format", "a file named directly whose type no source handles"
    FILE_NOT_FOUND = "file_not_found", "an input that does not exist"
    UNREADABLE = "unreadable", "the file exists but cannot be read (permissions, I/O error)"
    WRONG_FILE_TYPE = (
        "wrong_file_type",
        "the content is not what the name says (HTML saved as .pdf): found by its first bytes",
    )
    TRUNCATED_DOCUMENT = "truncated_document", "a PDF cut off before its end (no %%EOF)"
    FILE_TOO_LARGE = "file_too_large", "larger than `render.max_file_mb`"
    CORRUPT_DOCUMENT = "corrupt_document", "the file cannot be opened as its type"
    ENCRYPTED_DOCUMENT = "encrypted_document", "password-protected"
    EMPTY_DOCUMENT = "empty_document", "zero pages"
    TOO_MANY_PAGES = (
        "too_many_pages",
        "more than `render.max_pages_per_document`; the first pages are still rendered",
    )
    PAGE_RENDER_ERROR = "page_render_error", "one page failed; the rest of the document goes on"
    DOCUMENT_TIMEOUT = (
        "document_timeout",
        "rendering ran past `render.document_timeout_s`; the detail names the pages skipped",
    )
    CORRUPT_IMAGE = (
        "corrupt_image",
        "an image that cannot be decoded (truncated, not an image, zero size)",
    )
    IMAGE_TOO_LARGE = (
        "image_too_large",
        "an image over `render.max_image_pixels` or `ocr.max_pixels` (decompression-bomb sized)",
    )
    OCR_ERROR = "ocr_error", "the OCR engine failed on a page"
    GENERATOR_ERROR = "generator_error", "the generator raised on a sample"
    LLM_ERROR = (
        "llm_error",
        "the LLM endpoint answered with errors (429/5xx after retries, 4xx) or crashed",
    )
    LLM_UNAVAILABLE = (
        "llm_unavailable",
        "the LLM endpoint did not answer (unreachable, silent past llm.first_byte_timeout_s, "
        "no whole reply within llm.timeout_s), or the call was not sent because "
        "llm.breaker_failures attempts failed in a row; fix the endpoint and re-run (finished "
        "samples come from the cache)",
    )
    LLM_INVALID_OUTPUT = "llm_invalid_output", "no parsable JSON after the bounded retries"
    CONVERSION_FAILED = (
        "conversion_failed",
        "LibreOffice could not convert a slide deck (corrupt, or LibreOffice missing)",
    )
    CONVERSION_TIMEOUT = (
        "conversion_timeout",
        "the conversion ran past `render.conversion_timeout_s`; LibreOffice was killed",
    )
    SSRF_REFUSED = (
        "ssrf_refused",
        "a URL (or a redirect) to a non-http(s) scheme or a private/loopback/link-local address",
    )
    ROBOTS_DISALLOWED = "robots_disallowed", "robots.txt disallows the URL; it was not fetched"
    FETCH_TIMEOUT = (
        "fetch_timeout",
        "no answer within `web.navigation_timeout_s`, or the page and all it loads took longer "
        "than `web.page_timeout_s`",
    )
    FETCH_ERROR = (
        "fetch_error",
        "an HTTP error status, an unreachable host, a page that failed to load",
    )
    DOWNLOAD_TOO_LARGE = (
        "download_too_large",
        "a linked PDF or deck larger than `web.max_document_bytes`; the download stopped there "
        "and nothing was kept",
    )


class PageDropReason(Reason):
    BLANK_PAGE = "blank_page", "near-uniform pixels and (almost) no text"
    EXACT_DUPLICATE = "exact_duplicate", "the same image as the page named in `duplicate_of`"
    NEAR_DUPLICATE = (
        "near_duplicate",
        "a near-copy of the page named in `duplicate_of` (docs/filters.md)",
    )
    LOW_TEXT_DENSITY = (
        "low_text_density",
        "fewer characters per megapixel than `quality.min_chars_per_megapixel`",
    )


class SampleDropReason(Reason):
    TOO_FEW_IMAGES = "too_few_images", "a document shorter than `samples.min_images`"
    NO_QA_GENERATED = (
        "no_qa_generated",
        "no accepted extractive pair, caption or cross-image item (no text to ask about, or "
        "every item rejected)",
    )
    LANGUAGE_NOT_ALLOWED = "language_not_allowed", "outside `quality.languages`"
    BENCHMARK_OVERLAP = (
        "benchmark_overlap",
        "an image or QA of an evaluation benchmark in `decontaminate.against` is in the sample "
        "(`benchmark_matches` says which and how)",
    )
    SCORE_MISSING = "score_missing", "the filter's metric has no score (see `scores.note`)"
    SCORE_ABOVE_MAX = "score_above_max", "above `filter.max` (the condition did not help)"
    SCORE_BELOW_MIN = "score_below_min", "below `filter.min`"
    BELOW_TOP_FRACTION = "below_top_fraction", "in range, but not in the `filter.keep_top` fraction"


class RejectReason(Reason):
    UNGROUNDED = (
        "ungrounded",
        "the answer is not in the image's text, or a caption, explanation or answer states a "
        "number or name the text and context lack",
    )
    NOT_A_QUESTION = (
        "not_a_question",
        'fewer than three words ("1", "4,"; in Chinese or Japanese two characters count as'
        ' a word), or neither ending with "?" (or the full-width "？") nor opening as a question'
        " or a request does",
    )
    ANSWER_OFF_QUESTION = (
        "answer_off_question",
        "the answer is on the page, but nothing around it matches what the question asks (or it "
        "repeats the question's own words)",
    )
    SELF_EXPLAIN_OFF_ANSWER = (
        "self_explain_off_answer",
        "a self-explain turn that neither uses nor refers to the extracted answer",
    )
    LOCATION_ONLY = "location_only", "a self-explain turn that only says where the answer is"
    REPEATS_PAGE = (
        "repeats_page",
        "a self-explain turn that copies a passage of the page instead of explaining the answer",
    )
    ANSWER_CUT = (
        "answer_cut",
        "an answer cut short: at a word broken over two lines, or where its phrase goes on",
    )
    PAGE_FURNITURE = (
        "page_furniture",
        "the answer stands only in a running header or footer, or is a page number",
    )
    CAPTION_TOO_SHORT = (
        "caption_too_short",
        "a caption of fewer than 6 words, or one line of the page copied: a heading, not a "
        "description",
    )
    CAPTION_OFF_PAGE = (
        "caption_off_page",
        "a caption most of whose words are not on the page: an echo of the prompt, or another page",
    )
    NOT_MULTI_IMAGE = (
        "not_multi_image",
        "a cross-image item whose cited facts are found in fewer than two different images, or "
        "one whose question and answer use the fact of only one of them",
    )
    VERIFICATION_DISAGREES = (
        "verification_disagrees",
        "`--llm-verify`: answering from the page text alone gave a different answer",
    )
    VERIFICATION_FOUND_ERROR = (
        "verification_found_error",
        "`--llm-verify`: a second reading of the pages found a statement of the caption, "
        "follow-up or cross-image answer false or unsupported (or left the item unconfirmed)",
    )
    TASK_FAILED = (
        "task_failed",
        "the LLM call for this task failed after its retries; the sample's other tasks went on",
    )
    DUPLICATE_QUESTION = "duplicate_question", "the same question was already asked in the sample"
    EMPTY_ANSWER = "empty_answer", "an empty question or answer"
    QUESTION_LENGTH = "question_length", "outside `quality.min/max_question_chars`"
    ANSWER_LENGTH = "answer_length", "outside `quality.min/max_answer_chars`"


class ScoreNote(Reason):
    EMPTY_ANSWER = "empty_answer", "the turn has an empty question or answer"
    TOO_LONG = (
        "too_long",
        "the pass does not fit `scoring.max_length` without cutting a scored token",
    )
    SCORING_ERROR = "scoring_error", "the model failed on this sample; the detail follows the colon"
    NO_DUO = (
        "no_duo",
        "FFD needs an extractive turn followed by its self-explain turn, and the sample has none "
        "(a LLaVA JSON in LLaVAR-2's 4-turn blocks: --duo-layout blocks4)",
    )


class ExportSkip(Reason):
    OVER_TILE_BUDGET = "over_tile_budget", "leopard: more images than the tile budget allows"
    NEEDS_SEVERAL_IMAGES = (
        "needs_several_images",
        "llavar2: a cross-image question (single-image format)",
    )
    NOT_AN_EXTRACTIVE_BLOCK = (
        "not_an_extractive_block",
        "llavar2: a turn that is not an extractive pair followed by its self-explain pair",
    )
    WITHOUT_SELF_EXPLAIN = (
        "extractive_without_self_explain",
        "llavar2: an extractive pair with no self-explain turn after it (the template asks none "
        "where there is nothing to explain)",
    )
    IMAGE_WITHOUT_EXTRACTIVE_QA = (
        "image_without_extractive_qa",
        "llavar2: an image with no extractive pair",
    )


TIERS: dict[str, type[Reason]] = {
    "dead-letter `reason`": FailureReason,
    "`dropped_pages/` `drop_reason`": PageDropReason,
    "`dropped/` `drop_reason`": SampleDropReason,
    "`rejected_qa[].reject_reason`": RejectReason,
    "`scores.note`": ScoreNote,
    "export: left out and counted": ExportSkip,
}


def is_registered(value: str) -> bool:
    """Whether `value` is a reason of some tier (the stage contract checks emitted reasons)."""
    return any(value in tier._value2member_map_ for tier in TIERS.values())


def reason_tables() -> str:
    """The Markdown tables of every reason, as docs/schema.md shows them."""
    parts = []
    for heading, tier in TIERS.items():
        rows = [f"| {heading} | when |", "|---|---|"]
        rows += [f"| `{member.value}` | {member.description} |" for member in tier]
        parts.append("\n".join(rows))
    return "\n\n".join(parts) + "\n"
