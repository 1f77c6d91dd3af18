"""The one exception type users see as a plain message (no traceback)."""


class TicomexError(Exception):
    """An error the user can fix: the message names the file, line and reason."""
