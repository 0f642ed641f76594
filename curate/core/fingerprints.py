"""Perceptual hashes of page images: what duplicate detection compares.

Here, below both the sources and the filters, so the renderer can hash a page from the pixels
it already holds (no PNG decode), and dedup can hash any other image the same way.

The hashes are imagehash's pHash (DCT) and dHash (gradient) at hash size 16, of the page's
content box averaged down to 64x64 pixels. OpenCV does the pixel work (greyscale, content
box, resize): about 1.5 ms a page instead of 6 to 9 ms with Pillow, and it lets other threads
run meanwhile. The values differ from those of hash version 1 (Pillow's Lanczos resize) by a
few bits, so every hash is stored with its `hash_name` (PageRecord.phash_method): hashes of
two names are never compared, and a page whose hash has another name is hashed again.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import cv2
import imagehash
import numpy as np
from PIL import Image

HASH_SIZE = 16
HASH_BITS = HASH_SIZE * HASH_SIZE
HASH_VERSION = 2  # 1: imagehash on Pillow's Lanczos resize; 2: OpenCV, area resize
GRID = 64  # the page is averaged down to GRID x GRID before the DCT, as imagehash does
INK = 160  # pixels darker than this are content (content_box)
INK_LEVELS = (INK, 210)  # content boxes of copies: a colour near one level is far from the other
MIN_INK = 0.001  # pages with less ink than this (of their pixels) match only exactly
_DECODE = cv2.IMREAD_COLOR | cv2.IMREAD_IGNORE_ORIENTATION  # pixels as stored, as Pillow reads
_REDUCED = (
    (8, cv2.IMREAD_REDUCED_COLOR_8),
    (4, cv2.IMREAD_REDUCED_COLOR_4),
    (2, cv2.IMREAD_REDUCED_COLOR_2),
)


def hash_name(method: str) -> str:
    """What a page's `phash_method` says of a hash made here by `method`: "phash/v2"."""
    return f"{method}/v{HASH_VERSION}"


def perceptual_hash(image: bytes | np.ndarray, method: str = "phash") -> str:
    """64 hex digits: the pHash or dHash of an image's content box (see module docstring)."""
    return rotation_hashes(image, method, rotations=1)[0]


def rotation_hashes(
    image: bytes | np.ndarray, method: str = "phash", rotations: int = 4
) -> list[str]:
    """The image's hash upright, then turned 90, 180 and 270 degrees (counter-clockwise).
    `image` is encoded bytes (PNG, JPEG) or the renderer's greyscale or BGR pixels; both give
    the same hashes for the same pixels."""
    grid = cv2.resize(content_box(greyscale(image)), (GRID, GRID), interpolation=cv2.INTER_AREA)
    function = imagehash.phash if method == "phash" else imagehash.dhash
    turns = [
        Image.fromarray(np.ascontiguousarray(np.rot90(grid, turn))) for turn in range(rotations)
    ]
    return [_hex(function(turn, hash_size=HASH_SIZE)) for turn in turns]


def _hex(value: imagehash.ImageHash) -> str:
    """str(value), 60 times faster: imagehash joins the bits one by one."""
    return np.packbits(value.hash.flatten()).tobytes().hex()


CROPS = (0.0, 0.01, 0.02, 0.03, 0.04)  # of the content box's sides: a copy cropped that much
# matches


@dataclass(frozen=True)
class Variant:
    """One way to look at an image when it is compared with other copies: its content box
    cropped by `crop` (fractions of its height and width), turned `turn` quarter turns
    (counter-clockwise), and its two 256-bit hashes there as ints: pHash (`perceptual_hash`'s,
    dedup's) and dHash."""

    crop: tuple[float, ...]  # taken off the top, bottom, left and right
    turn: int
    coarse: int  # pHash: which pages are alike at all
    fine: int  # dHash: a second, independent look at the same pixels, to confirm a match
    ink_level: int = INK  # the content box's (INK_LEVELS)


SIDES = ("t", "b", "l", "r", "tl", "tr", "bl", "br")  # the ends one-sided crops take off


def crop_boxes(crops: tuple[float, ...], one_sided: bool) -> list[tuple[float, ...]]:
    """(top, bottom, left, right) fractions to take off: each crop of all four sides, then,
    with `one_sided`, each nonzero crop of one side or of the two sides at a corner."""
    boxes = [(c, c, c, c) for c in crops]
    for crop in crops if one_sided else ():
        for sides in SIDES if crop else ():
            boxes.append(tuple(crop if side in sides else 0.0 for side in "tblr"))
    return boxes


def variants(
    image: bytes | np.ndarray,
    crops: tuple[float, ...] = CROPS,
    turns: int = 4,
    one_sided: bool = True,
) -> list[Variant]:
    """The image at every crop of `crop_boxes`, the crops of all four sides at every quarter
    turn up to `turns` too (no variant at all when it is nearly blank: see `inked`). Crop 0
    and turn 0 at ink level 160 hash as `perceptual_hash` does.

    A copy of the image cropped by a few percent, or turned, has one variant close to the
    copy's upright, uncropped hashes. Crops matter where the content reaches the frame (a
    slide's background, a header bar in a corner): a 2% crop of each side of the image then
    cuts the content box where it touches the frame only, on one, two or four sides, and moves
    20 to 60 of its 256 pHash bits; a crop half a step off moves 10 to 15.

    Every variant is made of two content boxes, of pixels darker than 160 and than 210
    (`INK_LEVELS`): a colour near one level (a light blue fill at 174, JPEG noise pushing part
    of it under 160) moves the edge of that box by the whole shape, and the other box not at
    all.

    Why dHash confirms and no finer grid does: a page rendered at 72 and at 110 DPI differs in
    200 to 300 of the 1024 bits of a 32x32 pHash (text strokes land on other pixels), as many
    as two different slides of one template; dHash at the same 64x64 scale moves under 20 bits
    between renders (up to 45 between crops of a slide) and is computed from gradients, not
    from the DCT."""
    grey = greyscale(image)
    if not inked(grey):
        return []
    found = []
    for level in INK_LEVELS:
        found += _variants_of(content_box(grey, level), level, crops, turns, one_sided)
    return found


def _variants_of(
    box: np.ndarray, level: int, crops: tuple[float, ...], turns: int, one_sided: bool
) -> list[Variant]:
    height, width = box.shape
    found = []
    for crop in crop_boxes(crops, one_sided):
        top, bottom, left, right = crop
        part = box[
            int(height * top) : height - int(height * bottom),
            int(width * left) : width - int(width * right),
        ]
        grid = cv2.resize(part, (GRID, GRID), interpolation=cv2.INTER_AREA)
        for turn in range(turns if len(set(crop)) == 1 else 1):
            turned = Image.fromarray(np.ascontiguousarray(np.rot90(grid, turn)))
            coarse = imagehash.phash(turned, hash_size=HASH_SIZE)
            fine = imagehash.dhash(turned, hash_size=HASH_SIZE)
            found.append(Variant(crop, turn, int(_hex(coarse), 16), int(_hex(fine), 16), level))
    return found


def greyscale(image: bytes | np.ndarray) -> np.ndarray:
    """8-bit greyscale pixels of encoded bytes, or of a 2-D (grey) or BGR array."""
    if isinstance(image, (bytes, bytearray, memoryview)):
        image = cv2.imdecode(np.frombuffer(image, np.uint8), _decode_flags(image))
        if image is None:
            raise ValueError("the image could not be decoded")
    return image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)


def content_box(grey: np.ndarray, ink_level: int = INK) -> np.ndarray:
    """The pixels cropped to their ink (darker than `ink_level`): a copy with trimmed margins
    or a 1% crop then hashes like the original (a sparse scan otherwise moved 30 of 256 bits)."""
    _, ink = cv2.threshold(grey, ink_level - 1, 255, cv2.THRESH_BINARY_INV)
    x, y, width, height = cv2.boundingRect(ink)
    return grey[y : y + height, x : x + width] if width and height else grey


def inked(grey: np.ndarray) -> bool:
    """Whether a page has enough ink to be told from another by its hash: a blank page, or
    one with a page number only, hashes like every other one."""
    return float(np.count_nonzero(grey < INK)) >= MIN_INK * grey.size


def _decode_flags(data: bytes | bytearray | memoryview) -> int:
    """A large JPEG decodes at 1/2, 1/4 or 1/8 size (no smaller than 512 pixels a side): the
    hash needs 64x64, and an 8-megapixel scan decodes 6 times faster at 1/4."""
    if bytes(data[:2]) != b"\xff\xd8":
        return _DECODE
    with Image.open(io.BytesIO(data)) as header:  # reads the size only
        side = min(header.size)
    for factor, flag in _REDUCED:
        if side // factor >= 512:
            return flag | cv2.IMREAD_IGNORE_ORIENTATION
    return _DECODE
