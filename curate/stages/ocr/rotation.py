"""Turning an image upright and mapping boxes found on it back to the original image."""

from __future__ import annotations

import numpy as np

Box = tuple[float, float, float, float]


def rotate_clockwise(image: np.ndarray, degrees: int) -> np.ndarray:
    return np.ascontiguousarray(np.rot90(image, k=-(degrees // 90) % 4))


def box_to_original(box: Box, degrees: int, width: int, height: int) -> Box:
    """A box on the image rotated clockwise by `degrees` -> the same box on the original.

    `width` and `height` are the original image's size.
    """
    x0, y0, x1, y1 = box
    if degrees % 360 == 0:
        return box
    if degrees % 360 == 90:  # original (x, y) -> rotated (height - y, x)
        corners = [(yr, height - xr) for xr, yr in ((x0, y0), (x1, y1))]
    elif degrees % 360 == 180:
        corners = [(width - xr, height - yr) for xr, yr in ((x0, y0), (x1, y1))]
    else:  # 270: original (x, y) -> rotated (y, width - x)
        corners = [(width - yr, xr) for xr, yr in ((x0, y0), (x1, y1))]
    xs, ys = zip(*corners, strict=True)
    return (min(xs), min(ys), max(xs), max(ys))
