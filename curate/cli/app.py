"""The `curate` command; each module of this package adds its commands to it."""

import typer

app = typer.Typer(
    help="Turn documents into text-rich multi-image instruction data (Parquet).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
