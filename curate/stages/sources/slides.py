"""Slide decks (.pptx, .ppt, .odp): headless LibreOffice converts to PDF, then the PDF path
renders it. For .pptx, python-pptx adds slide titles, speaker notes and picture alt text as
human-written context, the "human" half of hybrid generation, and the points of its lists
and diagrams (smartart.py), which the template counts.

Each conversion runs with its own LibreOffice profile (parallel workers would otherwise fight
over one), under a timeout that kills the whole process group, in a temporary folder that is
always removed.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

from curate.core.config import RenderOptions
from curate.core.stage import ItemFailed
from curate.io import storage
from curate.schemas import ContextItem, PageRecord
from curate.schemas.reasons import FailureReason
from curate.stages.sources.checks import check_input_file
from curate.stages.sources.mupdf import pymupdf
from curate.stages.sources.pdf import PageHints, render_open_document
from curate.stages.sources.smartart import diagram_sublists

SLIDE_EXTENSIONS = frozenset({".pptx", ".ppt", ".odp", ".otp", ".potx", ".ppsx", ".pps"})


def soffice_binary() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def convert_to_pdf(deck: Path, out_dir: Path, timeout_s: float) -> Path:
    """The deck as a PDF in out_dir; raises TimeoutError, or RuntimeError in LibreOffice's words."""
    binary = soffice_binary()
    if binary is None:
        raise RuntimeError(
            "LibreOffice is not installed (Debian: apt-get install libreoffice-impress)"
        )
    profile = out_dir / "profile"
    command = [
        binary,
        "--headless",
        "--norestore",
        "--nolockcheck",
        f"-env:UserInstallation={profile.as_uri()}",
        "--convert-to",
        "pdf",
        "--outdir",
        str(out_dir),
        str(deck),
    ]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True, text=True
    )
    try:
        output, _ = process.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)  # soffice forks; take the whole group down
        process.communicate()
        raise TimeoutError(f"LibreOffice did not finish within {timeout_s:g} s") from None
    pdf = out_dir / f"{deck.stem}.pdf"
    if process.returncode != 0 or not pdf.exists():
        said = [line for line in output.splitlines() if line.strip() and "javaldx" not in line]
        raise RuntimeError(
            "LibreOffice could not convert it: "
            f"{' '.join(said)[-300:] or f'exit {process.returncode}'}"
        )
    return pdf


EMU_PER_POINT = (
    12700  # python-pptx lengths are EMU; LibreOffice's PDF pages are the slide size in points
)


def _rect(shape) -> tuple[float, float, float, float]:
    x, y = shape.left / EMU_PER_POINT, shape.top / EMU_PER_POINT
    return (x, y, x + shape.width / EMU_PER_POINT, y + shape.height / EMU_PER_POINT)


def _table_rect(shape) -> tuple[float, float, float, float]:
    """Where a table is drawn: its rows and columns decide, as LibreOffice renders them; the
    frame's own size can be stale (Google Slides exports)."""
    x, y = shape.left / EMU_PER_POINT, shape.top / EMU_PER_POINT
    width = sum(column.width for column in shape.table.columns) / EMU_PER_POINT
    height = sum(row.height for row in shape.table.rows) / EMU_PER_POINT
    return (
        x,
        y,
        x + (width or shape.width / EMU_PER_POINT),
        y + (height or shape.height / EMU_PER_POINT),
    )


def _shapes(shapes):
    """Every shape, group members included."""
    for shape in shapes:
        yield shape
        if getattr(shape, "shapes", None) is not None and shape.shape_type == 6:  # a group
            yield from _shapes(shape.shapes)


def _points(shape) -> list[str] | None:
    """The paragraphs of a text box, when it holds three or more, all at the first level (a
    bulleted list's points as the deck has them: the template counts them where the image
    shows as many bullets); None for anything else."""
    if not getattr(shape, "has_text_frame", False):
        return None
    paragraphs = [p for p in shape.text_frame.paragraphs if p.text.strip()]
    if len(paragraphs) < 3 or any(p.level for p in paragraphs):
        return None
    return [" ".join(p.text.split()) for p in paragraphs]


def _sublists(shape) -> list[list[str]]:
    """Each point of a text box with three or more sub-points under it, all one level down
    ("Automatically provided credentials" over five kinds): the point first, then its
    sub-points. The template counts them under the point that names them."""
    if not getattr(shape, "has_text_frame", False):
        return []
    paragraphs = [p for p in shape.text_frame.paragraphs if p.text.strip()]
    found = []
    for i, parent in enumerate(paragraphs):
        below = []
        for paragraph in paragraphs[i + 1 :]:
            if paragraph.level <= parent.level:
                break
            below.append(paragraph)
        if len(below) >= 3 and all(p.level == parent.level + 1 for p in below):
            found.append([" ".join(p.text.split()) for p in [parent, *below]])
    return found


def read_deck(deck: Path) -> tuple[dict[int, list[ContextItem]], dict[int, PageHints]]:
    """Per slide index: its title, speaker notes, picture alt text, one-level lists and
    sub-points under a point as context; and as layout hints, the title and where charts and
    tables stand (python-pptx, .pptx only)."""
    from pptx import Presentation

    context: dict[int, list[ContextItem]] = {}
    hints: dict[int, PageHints] = {}
    for index, slide in enumerate(Presentation(str(deck)).slides):
        items, hint = [], PageHints()
        title = slide.shapes.title
        if title is not None and title.has_text_frame and title.text_frame.text.strip():
            hint.title = " ".join(title.text_frame.text.split())
            items.append(ContextItem("title", hint.title))
        if slide.has_notes_slide:
            notes = slide.notes_slide.notes_text_frame
            if notes is not None and notes.text.strip():
                items.append(ContextItem("notes", notes.text.strip()))
        for shape in _shapes(slide.shapes):
            titled = title is not None and shape.shape_id == title.shape_id
            points = None if titled else _points(shape)
            if points:
                items.append(ContextItem("list", "\n".join(points)))
            for sublist in [] if titled else _sublists(shape) + diagram_sublists(slide, shape):
                items.append(ContextItem("sublist", "\n".join(sublist)))
            description = shape._element.xpath("./p:nvPicPr/p:cNvPr/@descr")
            if description and description[0].strip():
                items.append(ContextItem("alt_text", description[0].strip()))
            if getattr(shape, "has_chart", False) and shape.width:
                hint.figures.append(_rect(shape))
            if getattr(shape, "has_table", False) and shape.width:
                hint.tables.append(_table_rect(shape))
        context[index], hints[index] = items, hint
    return context, hints


def render_slide_pages(
    uri: str, options: RenderOptions, hash_method: str | None = None, name: str | None = None
) -> Iterator[PageRecord | ItemFailed]:
    """One page per slide: the deck converted to PDF, with its notes and alt text as context
    and its titles, charts and tables as layout hints."""
    check_input_file(uri, options)
    sha256 = storage.sha256_of(uri)
    with tempfile.TemporaryDirectory(prefix="curate-slides-") as work:
        work_dir = Path(work)
        deck = work_dir / f"deck{Path(uri).suffix.lower()}"
        with storage.open_file(uri) as source, open(deck, "wb") as target:
            shutil.copyfileobj(source, target)
        try:
            pdf = convert_to_pdf(deck, work_dir, options.conversion_timeout_s)
        except TimeoutError as err:
            raise ItemFailed(FailureReason.CONVERSION_TIMEOUT, str(err)) from None
        except RuntimeError as err:
            raise ItemFailed(FailureReason.CONVERSION_FAILED, str(err)) from None
        context: dict[int, list[ContextItem]] = {}
        hints: dict[int, PageHints] = {}
        if deck.suffix == ".pptx":
            try:
                context, hints = read_deck(deck)
            except Exception:  # LibreOffice read it; missing notes are no reason to lose the deck
                context, hints = {}, {}
        try:
            doc = pymupdf.open(pdf)
        except Exception as err:
            detail = f"the converted PDF cannot be opened: {err}"
            raise ItemFailed(FailureReason.CONVERSION_FAILED, detail) from None
        yield from render_open_document(
            doc, uri, sha256, options, "slides", context, hints, hash_method, name
        )
