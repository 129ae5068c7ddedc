"""The one exception type the CLI turns into a clean error line (no traceback)."""


class SeqlabError(Exception):
    """A user-facing problem: bad input, missing file, unknown name. The message is one line."""
