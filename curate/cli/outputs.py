"""The commands that look at an output and ship it: `inspect`, `report` (static HTML) and
`export` (training formats, the Hub)."""

from __future__ import annotations

import json

import typer
from rich.console import Console
from rich.table import Table

from curate.cli.app import app
from curate.cli.options import OutputOpt, console, fail, user_errors
from curate.core.registry import EXPORT_FORMATS
from curate.io import storage
from curate.outputs.writers.manifest import read_manifest
from curate.schemas.folders import DATA, DEAD_LETTER, DROPPED


@app.command()
def inspect(
    output: str = typer.Argument(..., help="An output folder of `curate run` or `curate render`."),
    as_json: bool = typer.Option(False, "--json", help="Print the manifest as JSON."),
) -> None:
    """Show counts, schema version, drop and failure reasons, and one sample, readably."""
    out = Console()
    output = storage.normalize_uri(output)
    try:
        manifest = read_manifest(output)
    except FileNotFoundError:
        raise fail(f"no manifest.json in {output}; is it a curate output?") from None
    if as_json:
        out.print_json(json.dumps(manifest))
        return
    out.print(
        f"[bold]{output}[/bold]  kind={manifest['kind']}  schema={manifest['schema_version']}  "
        f"curate={manifest['curate_version']}  config={manifest['config_hash']}"
    )
    table = Table(title="counts")
    table.add_column("what")
    table.add_column("n", justify="right")
    for name, value in manifest["counts"].items():
        table.add_row(name, str(value))
    for section in ("dropped_by_reason", "failures_by_reason"):
        for reason, value in manifest.get(section, {}).items():
            table.add_row(f"{section.split('_by_')[0]}: {reason}", str(value))
    for match, value in manifest.get("benchmark_matches", {}).items():
        table.add_row(f"samples matching {match}", str(value))
    out.print(table)
    for folder, shards in manifest["shards"].items():
        size = sum(s["bytes"] for s in shards) / 2**20
        out.print(
            f"{folder}/: {len(shards)} shard(s), {sum(s['rows'] for s in shards)} rows, {size:.1f} "
            "MB"
        )
    _print_first_sample(out, output)
    _print_first_failures(out, output)


@app.command(name="export")
def export_command(
    dataset: str = typer.Argument(
        ..., help="An output folder of `curate run` (or a samples *.parquet glob)."
    ),
    fmt: str = typer.Option(
        ...,
        "--format",
        "-f",
        help=f"{EXPORT_FORMATS.listed()} (docs/export.md).",
    ),
    output: str = OutputOpt,
    tiles: bool = typer.Option(
        False, "--tiles", help="Add Leopard adaptive-resolution tile columns."
    ),
    tile_size: int = typer.Option(364, "--tile-size", min=16, help="Tile side v in pixels."),
    max_tiles: int = typer.Option(50, "--max-tiles", min=1, help="Tile budget M per sample."),
    to_hub: str | None = typer.Option(
        None, "--to-hub", help="Also upload to this Hub dataset repo (user/name)."
    ),
    private: bool = typer.Option(
        False, "--private", help="With --to-hub: create the repo private."
    ),
    revision: str | None = typer.Option(
        None, "--revision", help="With --to-hub: branch to commit to (default main)."
    ),
    dry_run: bool = typer.Option(
        False, "--dry-run", help="With --to-hub: export, then list what would be uploaded."
    ),
) -> None:
    """Write a dataset in a training format with a dataset card, validate it, maybe upload it."""
    from curate.outputs.export import ExportOptions, export_dataset
    from curate.outputs.export.hub import check_repo_id, planned_upload, upload_folder

    if dry_run and not to_hub:
        raise fail("--dry-run shows what --to-hub would upload; give --to-hub user/name")
    if to_hub:
        with user_errors():
            check_repo_id(to_hub)
    options = ExportOptions(tiles=tiles, tile_size=tile_size, max_tiles=max_tiles)
    with user_errors(), console.status(f"exporting {dataset} as {fmt} ..."):
        report = export_dataset(dataset, output, fmt, options, repo_id=to_hub)
    result = report.result
    console.print(f"{fmt}: {result.samples} samples, {result.images} images -> {result.output}")
    for reason, count in sorted(result.skipped.items()):
        console.print(f"  not expressible in {fmt}, left out: {count} x {reason} (docs/export.md)")
    if report.errors:
        for error in report.errors[:20]:
            console.print(f"[red]invalid:[/red] {error}")
        console.print(
            f"[red]error:[/red] the export breaks {len(report.errors)} rule(s) of the {fmt} format"
        )
        raise typer.Exit(1)
    console.print(f"validated against the {fmt} format's rules")
    if to_hub and dry_run:
        files = planned_upload(result.output)
        for path, size in files:
            console.print(f"  {size:>12,d}  {path}")
        total = sum(size for _, size in files)
        console.print(
            f"dry run: would upload {len(files)} files ({total:,d} bytes) to the dataset repo "
            f"{to_hub} in one commit; the card is {result.output}/README.md"
        )
    elif to_hub:
        with user_errors(), console.status(f"uploading to {to_hub} ..."):
            uploaded = upload_folder(result.output, to_hub, private=private, revision=revision)
        console.print(f"uploaded {len(uploaded.files)} files in one commit: {uploaded.commit_url}")


@app.command(name="report")
def report_command(
    output: str = typer.Argument(..., help="An output folder of `curate run`."),
    to: str | None = typer.Option(
        None, "--output", "-o", help="Where to write the HTML [OUTPUT/report.html]."
    ),
    old_to: str | None = typer.Option(None, "--to", hidden=True),  # the old name of --output
    samples: int = typer.Option(24, "--samples", min=0, help="Samples shown in the gallery."),
) -> None:
    """Write a static HTML report (counts, drop reasons, score charts, a gallery); no server."""
    from curate.outputs.report import write_report

    try:
        with console.status("building the report ..."):
            path = write_report(output, to or old_to, samples)
    except FileNotFoundError:
        raise fail(
            f"no manifest.json in {output}; pass the output folder of `curate run`"
        ) from None
    console.print(f"report: {path}  (open it in a browser)")


def _print_first_sample(out: Console, output: str) -> None:
    from curate.stages.sources.datasets import iter_rows, shard_files

    for file in shard_files(output, DATA.folder):
        for row in iter_rows(file):
            out.rule(f"sample {row['sample_id']}")
            out.print(f"source: {row['source_uri']}  pages: {[i + 1 for i in row['page_indices']]}")
            sizes = ", ".join(f"{w}x{h}" for w, h in row["image_sizes"])
            out.print(f"images: {row['num_images']} ({sizes})  generator: {row['generator']}")
            for turn in row["conversations"]:
                style = "cyan" if turn["role"] == "user" else "green"
                out.print(
                    f"[{style}]{turn['role']:>9}[/{style}]: {turn['content']}", highlight=False
                )
            return


def _print_first_failures(out: Console, output: str, limit: int = 5) -> None:
    from curate.stages.sources.datasets import iter_rows, shard_files

    shown = 0
    for folder in (DEAD_LETTER.folder, DROPPED.folder):
        for file in shard_files(output, folder):
            for row in iter_rows(file, columns=None):
                if shown == 0:
                    out.rule("first dead-letter and dropped rows")
                if shown >= limit:
                    return
                reason = row.get("reason") or row.get("drop_reason")
                detail = row.get("detail") or row.get("drop_detail") or ""
                out.print(
                    f"{folder}: {reason}: {row.get('source_uri')}: "
                    f"{detail.splitlines()[0] if detail else ''}"
                )
                shown += 1
