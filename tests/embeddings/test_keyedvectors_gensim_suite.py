"""gensim's OWN KeyedVectors test cases, run against seqlab's KeyedVectors.

gensim ships `gensim/test/test_keyedvectors.py` with its test data. We load that file as a fresh
module and rebind the names its tests use (`KeyedVectors`, `gensim.models.KeyedVectors`,
`gensim.models.keyedvectors._load_word2vec_format`) to seqlab's class, so every assertion and
every data file is gensim's own. The one difference allowed: gensim's private
`_load_word2vec_format(..., binary_chunk_size=...)` chunk size is a detail of how gensim streams
a file; ours parses the whole buffer, so that argument is accepted and has nothing to change.

Skipped with a reason: the pickle-based `KeyedVectors.load` test (seqlab does not unpickle
objects; vectors travel in word2vec/GloVe files).
"""

import importlib.util
import types
import unittest

import pytest

pytest.importorskip("gensim")
import gensim.test.utils  # noqa: E402  (after the importorskip above)

from seqlab.embeddings.keyedvectors import KeyedVectors  # noqa: E402


def _load_word2vec_format(
    cls,
    fname,
    fvocab=None,
    binary=False,
    encoding="utf8",
    unicode_errors="strict",
    limit=None,
    datatype=None,
    no_header=False,
    binary_chunk_size=None,
):
    """Stands in for gensim's private loader: the same call, answered by seqlab's class."""
    kwargs = {} if datatype is None else {"datatype": datatype}
    return cls.load_word2vec_format(
        fname,
        fvocab=fvocab,
        binary=binary,
        encoding=encoding,
        unicode_errors=unicode_errors,
        limit=limit,
        no_header=no_header,
        **kwargs,
    )


def _gensim_suite():
    """gensim's test module, loaded afresh with seqlab's KeyedVectors in place of gensim's."""
    path = gensim.__path__[0] + "/test/test_keyedvectors.py"
    spec = importlib.util.spec_from_file_location("gensim_test_keyedvectors_on_seqlab", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.KeyedVectors = KeyedVectors
    module.gensim = types.SimpleNamespace(
        models=types.SimpleNamespace(
            KeyedVectors=KeyedVectors,
            keyedvectors=types.SimpleNamespace(
                KeyedVectors=KeyedVectors, _load_word2vec_format=_load_word2vec_format
            ),
        ),
        test=gensim.test,
        utils=gensim.utils,
    )
    return module


_suite = _gensim_suite()
GensimTestKeyedVectors = _suite.TestKeyedVectors
GensimLoadWord2VecFormatTest = _suite.LoadWord2VecFormatTest


@unittest.skip("pickle-based KeyedVectors.load is deliberately left out of seqlab")
class GensimGensim320Test(_suite.Gensim320Test):
    pass
