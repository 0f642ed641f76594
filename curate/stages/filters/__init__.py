"""Filters: page and sample checks (quality, duplicates) and the score filter; each is a stage."""
