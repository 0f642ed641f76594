"""What everything stands on: storage through fsspec, errors a user can act on, importing
libraries."""
