"""Leopard's adaptive high-resolution tiling, as its training code computes it.

Leopard (Jia et al., 2024) gives each image of a sample a grid of v x v tiles plus the whole image
as a global view, under one budget of M images per sample, so a 3-page sample does not get three
times the visual tokens of a 1-page one. This module follows what Leopard's data loader does
(`allocate_patches` and `select_best_resolution` in
Pai-Megatron-Patch/megatron_patch/data/llava/mm_pretrain_dataset.py, tencent-ailab/Leopard at
36c5f61), so the `tile_grid` curate writes is the one training will use:

1. Wanted tiles per image: round(w / v) x round(h / v), with Python's rounding (halves to even).
   An image that wants a single tile gets none: its global view is enough.
2. Budget: M minus the number of images (each image's global view takes one). When the wanted
   tiles exceed it, each image's count is scaled by budget / total and rounded down. A sample
   with M images or more gets no tiles at all.
3. Grid: among the grids rows x cols of at most that many tiles, except 1 x 1, the one that keeps
   the most of the image's pixels once the image is scaled (aspect kept) into it; on a tie, the
   one that wastes the fewest padding pixels; on a further tie, the first in row-major order.

`num_tiles` counts the tiles and one global view per image: what the vision encoder sees.
Defaults v = 364 (SigLIP's input size, as in Leopard) and M = 50.
"""

from __future__ import annotations

from dataclasses import dataclass

TILE_SIZE = 364
MAX_TILES = 50


@dataclass(frozen=True)
class TilePlan:
    grids: list[tuple[int, int]]  # (rows, cols) per image, in image order; (0, 0): none
    tile_size: int

    @property
    def num_tiles(self) -> int:
        return sum(rows * cols for rows, cols in self.grids) + len(self.grids)


def wanted_tiles(width: int, height: int, tile_size: int = TILE_SIZE) -> int:
    count = round(width / tile_size) * round(height / tile_size)
    return 0 if count == 1 else count


def allocate(sizes: list[tuple[int, int]], budget: int, tile_size: int = TILE_SIZE) -> list[int]:
    """Tiles per image within `budget`, scaled down in proportion when they do not fit."""
    wanted = [wanted_tiles(w, h, tile_size) for w, h in sizes]
    total = sum(wanted)
    if total <= budget:
        return wanted
    return [int(n * budget / total) for n in wanted]


def best_grid(width: int, height: int, tiles: int, tile_size: int = TILE_SIZE) -> tuple[int, int]:
    """(rows, cols) of at most `tiles` tiles, not 1 x 1, keeping the most of the image."""
    best, kept_most, wasted_least = (0, 0), 0, float("inf")
    for rows in range(1, tiles + 1):
        for cols in range(1, tiles + 1):
            if rows * cols > tiles or (rows == 1 and cols == 1):
                continue
            box_w, box_h = cols * tile_size, rows * tile_size
            scale = min(box_w / width, box_h / height)
            kept = min(int(width * scale) * int(height * scale), width * height)
            wasted = box_w * box_h - kept
            if kept > kept_most or (kept == kept_most and wasted < wasted_least):
                best, kept_most, wasted_least = (rows, cols), kept, wasted
    return best


def plan_tiles(
    sizes: list[tuple[int, int]], tile_size: int = TILE_SIZE, max_tiles: int = MAX_TILES
) -> TilePlan:
    """The tile grid of every image of one sample, given each image's (width, height)."""
    budget = max_tiles - len(sizes)
    if budget <= 0:
        return TilePlan([(0, 0)] * len(sizes), tile_size)
    counts = allocate(sizes, budget, tile_size)
    grids = [best_grid(w, h, n, tile_size) for (w, h), n in zip(sizes, counts, strict=True)]
    return TilePlan(grids, tile_size)


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
