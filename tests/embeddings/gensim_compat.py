"""What the gensim suites share: testfixtures (gensim's tests import it) or a stand-in for its
log_capture where it is not installed, and the subclass that skips the left-out tests."""

import logging
import sys
import types
import unittest


def provide_testfixtures() -> None:
    """Make `from testfixtures import log_capture` work: the real package, else the stand-in."""
    try:
        import testfixtures  # noqa: F401
    except ImportError:
        sys.modules.setdefault("testfixtures", types.SimpleNamespace(log_capture=_log_capture))


def leave_out(cls, left_out: dict):
    """A subclass of gensim's test case with the left-out tests skipped, naming the reason."""
    body = {
        name: unittest.skip(reason)(getattr(cls, name))
        for name, reason in left_out.items()
        if hasattr(cls, name)
    }
    return type(f"Gensim{cls.__name__}", (cls,), body)


def _log_capture():
    """testfixtures.log_capture's contract: the test gets the captured records as its last
    argument, and str() of it holds every message."""

    class Captured(logging.Handler):
        def __init__(self):
            super().__init__(logging.DEBUG)
            self.records = []

        def emit(self, record):
            self.records.append(record)

        def __str__(self):
            return "\n".join(f"{r.name} {r.levelname} {r.getMessage()}" for r in self.records)

    def decorate(fn):
        def wrapper(*args, **kwargs):
            handler, root = Captured(), logging.getLogger()
            level = root.level
            root.addHandler(handler)
            root.setLevel(logging.DEBUG)
            try:
                return fn(*args, handler, **kwargs)
            finally:
                root.removeHandler(handler)
                root.setLevel(level)

        wrapper.__name__, wrapper.__doc__ = fn.__name__, fn.__doc__
        return wrapper

    return decorate
