"""Sources turn the inputs of a job into records: documents (PDFs, decks, images, webpages)
into page records, and datasets someone already has (curate Parquet, LLaVA JSON) into the
records they hold. One module per kind of input; `stage.py` runs them in a job."""

from curate.stages.sources.dispatch import DOCUMENT_FORMATS, SUPPORTED_EXTENSIONS
from curate.stages.sources.stage import render_document

__all__ = ["DOCUMENT_FORMATS", "SUPPORTED_EXTENSIONS", "render_document"]
