"""curate: documents (PDFs, slide decks, webpages) to text-rich multi-image instruction data."""

__version__ = "0.1.0"
