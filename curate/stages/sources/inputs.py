"""Input arguments -> the URIs of the documents they name: URLs, `.urls` lines, named files,
every file under a folder, the supported files a glob matches. Listing is a stage of the job,
so both runners list the same way and a large bucket is listed by a worker, as a stream, never
by the launcher."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from curate.core.stage import Keep, Outcome, Stage
from curate.io import storage
from curate.stages.sources.dispatch import SUPPORTED_EXTENSIONS


@dataclass(frozen=True)
class InputArgument:
    """One input as the user gave it: a file, folder, glob, URL or `.urls` file."""

    raw: str


def list_inputs(uris: Iterable[str]) -> Iterator[str]:
    """The document URIs of input arguments, one by one."""
    for raw in uris:
        kind, uri = storage.route_input(raw)
        if kind == "pattern":
            yield from (
                path
                for path in storage.list_files(uri)
                if storage.has_extension(path, SUPPORTED_EXTENSIONS)
            )
        elif kind == "folder":  # every file: an unsupported one gets its dead-letter row
            yield from storage.list_files(uri)
            yield from storage.unlistable_folders(uri)  # each reported as unreadable
        elif kind == "url_list":
            yield from storage.iter_url_list(uri)
        else:
            yield uri


class ListInputs(Stage):
    """An input argument -> the URI of every document it names (what `render` takes)."""

    name = "list_inputs"
    accepts = (InputArgument,)

    def process(self, argument: InputArgument) -> Iterable[Outcome]:
        for uri in list_inputs([argument.raw]):
            yield Keep(uri)
