"""`python -m curate.cli ...` is the `curate` command."""

from curate.cli import app

app()
