"""Leopard's adaptive high-resolution tiling, written as metadata columns for training loaders.

Leopard (Jia et al., 2024) splits every image of a sample into tiles of v x v pixels under one
budget of M tiles per sample, so a 3-page sample does not get three times the visual tokens of
a 1-page one. The rule, per sample:

1. Initial tiles: each image wants ceil(h / v) x ceil(w / v) tiles.
2. Budget: if the sum exceeds M, every image's count is scaled by M / sum (rounded down, at
   least 1), so the sample fits.
3. Grid: among the grids rows x cols with rows * cols within the image's count, take the one
   whose aspect ratio (cols / rows) is closest to the image's (w / h). Grids within 10% of the
   closest ratio count as equally close, and the one with more tiles wins: an A4 page with a
   budget of 20 gets 5 x 4 (ratio 0.80 for 0.71), not 3 x 2 (0.67), since text needs pixels.

Defaults v = 364 (SigLIP's input size, as in Leopard) and M = 50. A sample with more images than
M cannot fit even with one tile each; `fits_budget` says so and exporters count it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

TILE_SIZE = 364
MAX_TILES = 50
ASPECT_TOLERANCE = math.log(1.1)  # grids within 10% of the closest aspect ratio are as good


@dataclass(frozen=True)
class TilePlan:
    grids: list[tuple[int, int]]  # (rows, cols) per image, in image order
    tile_size: int

    @property
    def num_tiles(self) -> int:
        return sum(rows * cols for rows, cols in self.grids)


def initial_tiles(width: int, height: int, tile_size: int = TILE_SIZE) -> int:
    return max(1, math.ceil(height / tile_size)) * max(1, math.ceil(width / tile_size))


def best_grid(width: int, height: int, budget: int) -> tuple[int, int]:
    """The (rows, cols) grid within `budget` tiles that best matches the image's aspect ratio."""
    target = math.log(max(width, 1) / max(height, 1))
    grids = [(r, c) for r in range(1, budget + 1) for c in range(1, budget // r + 1)]
    error = {grid: abs(math.log(grid[1] / grid[0]) - target) for grid in grids}
    closest = min(error.values())
    near = [grid for grid in grids if error[grid] <= closest + ASPECT_TOLERANCE]
    return max(near, key=lambda grid: (grid[0] * grid[1], -error[grid]))


def plan_tiles(
    sizes: list[tuple[int, int]], tile_size: int = TILE_SIZE, max_tiles: int = MAX_TILES
) -> TilePlan:
    """The tile grid of every image of one sample, given each image's (width, height)."""
    wanted = [initial_tiles(w, h, tile_size) for w, h in sizes]
    total = sum(wanted)
    if total > max_tiles:
        wanted = [max(1, n * max_tiles // total) for n in wanted]
    return TilePlan(
        [best_grid(w, h, n) for (w, h), n in zip(sizes, wanted, strict=True)], tile_size
    )


def fits_budget(plan: TilePlan, max_tiles: int = MAX_TILES) -> bool:
    return plan.num_tiles <= max_tiles


def tile_columns(
    sizes: list[tuple[int, int]], tile_size: int = TILE_SIZE, max_tiles: int = MAX_TILES
) -> dict:
    """The columns exporters add with `--tiles`: `tile_grid`, `num_tiles`, `tile_size`."""
    plan = plan_tiles(sizes, tile_size, max_tiles)
    return {
        "tile_grid": [list(grid) for grid in plan.grids],
        "num_tiles": plan.num_tiles,
        "tile_size": tile_size,
    }
