"""Input arguments -> the URIs of the documents they name: URLs, `.urls` lines, named files,
every file under a folder, the supported files a glob matches. Listing is a stage of the job,
so both runners list the same way and a large bucket is listed by a worker, as a stream, never
by the launcher."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from curate.core.stage import Keep, Outcome, Stage
from curate.io import storage
from curate.stages.sources.dispatch import SUPPORTED_EXTENSIONS
from curate.stages.sources.web import HTML_EXTENSIONS


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
            yield from (path for path in storage.list_files(uri) if not _saved_page_part(path))
            yield from storage.unlistable_folders(uri)  # each reported as unreadable
        elif kind == "url_list":
            yield from storage.iter_url_list(uri)
        else:
            yield uri


def listing_roots(uris: Iterable[str]) -> tuple[str, ...]:
    """The folders the inputs list documents from (a named file's folder, a glob's base), so
    a document can be named by its path below them (`document_name`)."""
    roots = []
    for raw in uris:
        if raw.startswith(("http://", "https://")) or raw.endswith(".urls"):
            continue
        if not storage.is_local(raw):  # told apart by name: no bucket is listed when planning
            kind = "pattern" if storage.is_pattern(raw) else "file"
            uri = raw if os.path.splitext(raw.rstrip("/"))[1] else raw.rstrip("/") + "/**"
            kind = "folder" if uri.endswith("/**") and kind == "file" else kind
        else:
            kind, uri = storage.route_input(raw)
        if kind == "folder":
            root = uri[: -len("/**")]
        elif kind == "pattern":
            cut = min(uri.index(ch) for ch in "*?[" if ch in uri)
            root = uri[:cut].rsplit("/", 1)[0]
        else:
            root = uri.rsplit("/", 1)[0]
        roots.append(os.path.realpath(root) if storage.is_local(root) else root.rstrip("/"))
    return tuple(roots)


def document_name(uri: str, roots: Iterable[str] = ()) -> str | None:
    """What a listed file's ids are made of besides its content: its path below the input
    folder it came from (its file name when it was named directly), so ids and questions do
    not change when the same files sit at another path. None for webpages (their URL)."""
    if uri.startswith(("http://", "https://")):
        return None
    path = os.path.realpath(storage.normalize_uri(uri)) if storage.is_local(uri) else uri
    below = [path[len(root) + 1 :] for root in roots if path.startswith(root.rstrip("/") + "/")]
    return min(below, key=len) if below else path.rsplit("/", 1)[-1]


def _saved_page_part(path: str) -> bool:
    """A file of a saved webpage's `NAME_files/` folder (what browsers save beside
    `NAME.html`): part of that page, not a document of its own."""
    if not storage.is_local(path):
        return False
    folder = os.path.dirname(path)
    while folder and folder != os.path.dirname(folder):
        name = os.path.basename(folder)
        if name.endswith("_files"):
            page = os.path.join(os.path.dirname(folder), name[: -len("_files")])
            if any(os.path.isfile(page + ext) for ext in HTML_EXTENSIONS):
                return True
        folder = os.path.dirname(folder)
    return False


def has_saved_pages(raw: str) -> bool:
    """Whether a local input is, or holds, a saved webpage (so the job starts a browser)."""
    if raw.startswith(("http://", "https://")) or not storage.is_local(raw):
        return False
    path = storage.normalize_uri(raw)
    if os.path.isdir(path):
        return any(
            os.path.splitext(name)[1].lower() in HTML_EXTENSIONS
            for _, _, names in os.walk(path)
            for name in names
        )
    return os.path.splitext(path)[1].lower() in HTML_EXTENSIONS or (
        storage.is_pattern(raw) and raw.lower().endswith(tuple(HTML_EXTENSIONS))
    )


class ListInputs(Stage):
    """An input argument -> the URI of every document it names (what `render` takes)."""

    name = "list_inputs"
    accepts = (InputArgument,)

    def process(self, argument: InputArgument) -> Iterable[Outcome]:
        for uri in list_inputs([argument.raw]):
            yield Keep(uri)
