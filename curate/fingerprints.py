"""Perceptual hashes of page images: what duplicate detection compares.

Here, below both the sources and the filters, so the renderer can hash a page from the pixels
it already holds (no PNG decode), and dedup can hash any other image the same way.
"""

from __future__ import annotations

import io

import imagehash
from PIL import Image

HASH_SIZE = 16
HASH_BITS = HASH_SIZE * HASH_SIZE


def perceptual_hash(image: bytes | Image.Image, method: str = "phash") -> str:
    """64 hex digits: imagehash's pHash (DCT) or dHash (gradient) at hash size 16."""
    return rotation_hashes(image, method, rotations=1)[0]


def rotation_hashes(
    image: bytes | Image.Image, method: str = "phash", rotations: int = 4
) -> list[str]:
    """The image's hash upright, then turned 90, 180 and 270 degrees. `image` is encoded
    bytes or decoded pixels; both give the same hashes."""
    function = imagehash.phash if method == "phash" else imagehash.dhash
    if isinstance(image, Image.Image):  # the renderer's greyscale pixels are used as they are
        small = content_box(image if image.mode == "L" else image.convert("L"))
    else:
        with Image.open(io.BytesIO(image)) as opened:
            opened.draft("L", (512, 512))  # JPEG: decode at reduced size; the hash needs 64x64
            small = content_box(opened.convert("L"))
    turns = [None, Image.ROTATE_90, Image.ROTATE_180, Image.ROTATE_270][:rotations]
    return [str(function(small.transpose(t) if t else small, hash_size=HASH_SIZE)) for t in turns]


def content_box(image: Image.Image, ink: int = 160) -> Image.Image:
    """The image cropped to its ink (pixels darker than `ink`): a copy with trimmed margins or
    a 1% crop then hashes like the original (a sparse scan otherwise moved 30 of 256 bits)."""
    box = image.point(lambda p: 255 if p < ink else 0).getbbox()
    return image.crop(box) if box else image
