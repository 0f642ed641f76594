"""Image files (scans, photos, screenshots) as single pages, or one page per TIFF frame.

Images carry no text, so every page is flagged for OCR. Sizes are checked from the header
before any pixel is decoded, so a decompression bomb is refused, not loaded.
"""

from __future__ import annotations

import hashlib
import io
import math
from collections.abc import Iterator

from PIL import Image, ImageOps, ImageSequence

from curate.core.config import RenderOptions
from curate.core.stage import ItemFailed
from curate.io import storage
from curate.schemas import ImageData, PageRecord, stable_id
from curate.schemas.reasons import FailureReason
from curate.stages.sources.checks import check_input_file

IMAGE_EXTENSIONS = frozenset({".png", ".jpg", ".jpeg", ".tif", ".tiff", ".webp", ".bmp", ".gif"})


def read_image_pages(
    uri: str, options: RenderOptions, hash_method: str | None = None, name: str | None = None
) -> Iterator[PageRecord | ItemFailed]:
    """One page per image, or per frame of a TIFF. (Dedup hashes image pages itself: their
    pixels are not decoded here, so `hash_method` is unused.)"""
    check_input_file(uri, options)
    with storage.open_file(uri) as handle:
        data = handle.read()
    sha256 = hashlib.sha256(data).hexdigest()  # the bytes are in memory already
    doc_id = stable_id(name or uri, sha256)
    try:
        image = Image.open(io.BytesIO(data))
        width, height = image.size
    except Image.DecompressionBombError as err:
        raise ItemFailed(FailureReason.IMAGE_TOO_LARGE, str(err)) from None
    except (OSError, SyntaxError, ValueError) as err:
        detail = f"cannot read the image header: {err}"
        raise ItemFailed(FailureReason.CORRUPT_IMAGE, detail) from None
    if width * height > options.max_image_pixels:
        raise ItemFailed(
            FailureReason.IMAGE_TOO_LARGE,
            f"{width}x{height} exceeds render.max_image_pixels={options.max_image_pixels}",
        )
    frames = getattr(image, "n_frames", 1) if image.format == "TIFF" else 1
    for index, frame in enumerate(ImageSequence.Iterator(image)):
        if index >= frames:
            break
        page_id = f"{doc_id}-{index:05d}"
        try:
            original = data if frames == 1 else None
            yield _page(
                frame, original, image.format, options, uri, sha256, doc_id, page_id, index, frames
            )
        except (OSError, SyntaxError, ValueError) as err:
            yield ItemFailed(FailureReason.CORRUPT_IMAGE, f"frame {index}: {err}", page_id)


def _page(
    frame: Image.Image,
    original: bytes | None,
    fmt: str | None,
    options: RenderOptions,
    uri: str,
    sha256: str,
    doc_id: str,
    page_id: str,
    index: int,
    count: int,
) -> PageRecord:
    frame.load()  # raises on truncated data
    width, height = frame.size
    if width == 0 or height == 0:
        raise ValueError("the image has zero size")
    exif_rotated = fmt == "JPEG" and frame.getexif().get(0x0112, 1) != 1
    keep_original = (
        original is not None
        and fmt in ("PNG", "JPEG")
        and not exif_rotated
        and width * height <= options.max_pixels_per_page
    )
    if keep_original:
        data, image_format = original, "jpg" if fmt == "JPEG" else "png"
    else:  # re-encode: EXIF-rotated photos, other formats, TIFF frames, oversized images
        upright = ImageOps.exif_transpose(frame).convert("RGB")
        if upright.width * upright.height > options.max_pixels_per_page:
            scale = math.sqrt(options.max_pixels_per_page / (upright.width * upright.height))
            upright = upright.resize(
                (max(1, int(upright.width * scale)), max(1, int(upright.height * scale)))
            )
        buffer = io.BytesIO()
        upright.save(buffer, format="PNG")
        data, image_format = buffer.getvalue(), "png"
        width, height = upright.size
    dpi = frame.info.get("dpi", (0, 0))[0] or 0.0
    return PageRecord(
        page_id=page_id,
        doc_id=doc_id,
        source_uri=uri,
        source_sha256=sha256,
        source_type="image",
        page_index=index,
        page_count=count,
        render_dpi=float(dpi),
        width=width,
        height=height,
        image=ImageData(data, f"{page_id}.{image_format}"),
        text_source="none",
        needs_ocr=True,
    )
