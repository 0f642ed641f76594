"""The one base class for errors a user can act on; every message says what to do next.

The CLI prints these as one `error:` line and exits 2; anything else is a bug and shows a
traceback.
"""


class CurateError(Exception):
    """A problem with the input, the configuration or the environment, not with curate."""
