"""Sources turn an input URI into page records (or failures). One module per kind of input."""

from curate.stages.sources.dispatch import (
    SUPPORTED_EXTENSIONS,
    render_document,
    render_linked_document,
)

__all__ = ["SUPPORTED_EXTENSIONS", "render_document", "render_linked_document"]
