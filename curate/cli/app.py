"""The `curate` command; each module of this package adds its commands to it."""

import typer

from curate import __version__

app = typer.Typer(
    help="Turn documents into text-rich multi-image instruction data (Parquet).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"curate {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: bool = typer.Option(
        False, "--version", "-V", callback=_version, is_eager=True, help="Print the version."
    ),
) -> None:
    """Turn documents into text-rich multi-image instruction data (Parquet)."""
