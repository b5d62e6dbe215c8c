"""The one base class of every error stswatch raises on purpose.

Commands catch `StswatchError` at the top and print its message as one line; anything else
is a bug and keeps its traceback.
"""


class StswatchError(Exception):
    """Base class: a problem the user can fix (bad file, bad setting, unreachable service)."""


class ReferenceDataError(StswatchError):
    """An EEZ or port file is missing or malformed."""
