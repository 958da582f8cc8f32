"""The error raised when data cannot be found or read."""


class DataError(RuntimeError):
    """A dataset could not be found, downloaded or read. The message says what was looked
    for, where, and how to get it."""
