"""Beam wiring: stage logic from the rest of the package, as PTransforms. Only here imports Beam."""
