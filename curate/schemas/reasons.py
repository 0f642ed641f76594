"""Every drop and failure reason string, defined once.

Dropped rows (`drop_reason`) are valid data we chose not to keep; failures (dead-letter
`reason`) are inputs we could not process; QA-level rejections are kept inside the sample
(`rejected_qa[].reject_reason`). All are written out, never silently lost. docs/schema.md
describes each one.
"""

# --- failures: an input or stage could not be processed (dead-letter output) ---
UNSUPPORTED_FORMAT = "unsupported_format"
FILE_NOT_FOUND = "file_not_found"
FILE_TOO_LARGE = "file_too_large"
CORRUPT_DOCUMENT = "corrupt_document"
ENCRYPTED_DOCUMENT = "encrypted_document"
EMPTY_DOCUMENT = "empty_document"
TOO_MANY_PAGES = "too_many_pages"
PAGE_RENDER_ERROR = "page_render_error"
DOCUMENT_TIMEOUT = "document_timeout"
CORRUPT_IMAGE = "corrupt_image"
IMAGE_TOO_LARGE = "image_too_large"
OCR_ERROR = "ocr_error"
GENERATOR_ERROR = "generator_error"
LLM_ERROR = "llm_error"
LLM_INVALID_OUTPUT = "llm_invalid_output"
SCORING_ERROR = "scoring_error"
CONVERSION_FAILED = "conversion_failed"
CONVERSION_TIMEOUT = "conversion_timeout"
SSRF_REFUSED = "ssrf_refused"
ROBOTS_DISALLOWED = "robots_disallowed"
FETCH_TIMEOUT = "fetch_timeout"
FETCH_ERROR = "fetch_error"
DOWNLOAD_TOO_LARGE = "download_too_large"

FAILURE_REASONS = frozenset(
    {
        UNSUPPORTED_FORMAT, FILE_NOT_FOUND, FILE_TOO_LARGE, CORRUPT_DOCUMENT, ENCRYPTED_DOCUMENT,
        EMPTY_DOCUMENT, TOO_MANY_PAGES, PAGE_RENDER_ERROR, DOCUMENT_TIMEOUT, CORRUPT_IMAGE,
        IMAGE_TOO_LARGE, OCR_ERROR, GENERATOR_ERROR, LLM_ERROR, LLM_INVALID_OUTPUT, SCORING_ERROR,
        CONVERSION_FAILED, CONVERSION_TIMEOUT, SSRF_REFUSED, ROBOTS_DISALLOWED, FETCH_TIMEOUT,
        FETCH_ERROR, DOWNLOAD_TOO_LARGE,
    }
)

# --- drops: a valid sample filtered out (dropped output) ---
TOO_FEW_IMAGES = "too_few_images"
NO_QA_GENERATED = "no_qa_generated"
SCORE_MISSING = "score_missing"
SCORE_ABOVE_MAX = "score_above_max"
SCORE_BELOW_MIN = "score_below_min"
BELOW_TOP_FRACTION = "below_top_fraction"
LANGUAGE_NOT_ALLOWED = "language_not_allowed"

# --- page drops: pages filtered out before samples are built (dropped_pages output) ---
EXACT_DUPLICATE = "exact_duplicate"
NEAR_DUPLICATE = "near_duplicate"
BLANK_PAGE = "blank_page"
LOW_TEXT_DENSITY = "low_text_density"

DROP_REASONS = frozenset(
    {
        TOO_FEW_IMAGES, NO_QA_GENERATED, SCORE_MISSING, SCORE_ABOVE_MAX, SCORE_BELOW_MIN,
        BELOW_TOP_FRACTION, LANGUAGE_NOT_ALLOWED, EXACT_DUPLICATE, NEAR_DUPLICATE, BLANK_PAGE,
        LOW_TEXT_DENSITY,
    }
)

# --- QA-level rejections: kept in the sample's `rejected_qa` with this reason ---
UNGROUNDED = "ungrounded"
DUPLICATE_QUESTION = "duplicate_question"
NOT_MULTI_IMAGE = "not_multi_image"
EMPTY_ANSWER = "empty_answer"
QUESTION_LENGTH = "question_length"
ANSWER_LENGTH = "answer_length"

QA_REJECT_REASONS = frozenset(
    {UNGROUNDED, DUPLICATE_QUESTION, NOT_MULTI_IMAGE, EMPTY_ANSWER, QUESTION_LENGTH, ANSWER_LENGTH}
)
