"""Runners execute a plan: over plain iterators here, or as an Apache Beam graph."""
