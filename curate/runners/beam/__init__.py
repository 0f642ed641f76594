"""Beam wiring: stage logic from the rest of the package, as PTransforms. Only here imports Beam."""

import logging
import sys

from curate.io.imports import without

# RunInference's optional model manager (a feature curate does not use) imports torch and
# scipy: a second and ~150 MB in every worker, even for jobs with no model. Beam skips it when
# it cannot be imported; torch is still imported where a scoring stage needs it.
sys.modules.setdefault("apache_beam.ml.inference.model_manager", None)

# `import apache_beam` also imports its BigQuery, Pub/Sub and cross-language I/O to offer them
# as `beam.io.WriteToBigQuery` and the like: 0.2 to 0.35 s in the launcher and in every local
# worker, for connectors curate never uses. They are skipped while Beam is first imported
# (Beam allows it: that import is optional), then importable again by their own module paths.
# Importing Beam also logs "apitools not found ..." on the root logger unless the GCP extra is
# installed. It is noise for local users, so hide warnings during that one import.
_root = logging.getLogger()
_level = _root.level
_root.setLevel(logging.ERROR)
try:
    with without("apache_beam.io.gcp.bigquery"):
        import apache_beam  # noqa: F401
finally:
    _root.setLevel(_level)

from apache_beam.ml.inference import base as _inference  # noqa: E402

# Skipping the model manager also skipped Beam's `import resource` (one try block), which
# RunInference uses to report memory: without it, every bundle of a model stage warned
# "Resource module is not available for current platform".
if _inference.resource is None and sys.platform != "win32":
    import resource

    _inference.resource = resource
