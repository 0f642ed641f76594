"""Filters decide which samples to keep; each answers keep or a drop reason."""
