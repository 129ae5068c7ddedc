"""What the gensim suites share: a stand-in for testfixtures.log_capture (gensim's tests import
it; seqlab does not depend on testfixtures)."""

import logging


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
