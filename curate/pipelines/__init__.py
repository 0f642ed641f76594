"""Beam wiring: stage logic from the rest of the package, as PTransforms. Only here imports Beam."""

import logging

# Importing Beam logs "apitools not found ..." on the root logger unless the GCP extra is
# installed. It is noise for local users, so hide warnings during that one import.
_root = logging.getLogger()
_level = _root.level
_root.setLevel(logging.ERROR)
try:
    import apache_beam  # noqa: F401
finally:
    _root.setLevel(_level)

from curate.pipelines import filesystems  # noqa: E402,F401 - registers memory:// with Beam
