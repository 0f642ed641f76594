"""The stage contract, typed options, registries, text and image fingerprints."""
