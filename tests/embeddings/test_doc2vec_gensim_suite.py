"""gensim's OWN Doc2Vec test cases, run against seqlab's Doc2Vec.

gensim ships `gensim/test/test_doc2vec.py` with its test data. We load that file as a fresh module
and rebind the names its tests use (`doc2vec.Doc2Vec`, `doc2vec.TaggedDocument`,
`keyedvectors.KeyedVectors`) to seqlab's classes, so every assertion, every corpus and every
setting is gensim's own.

Left out, each for a reason (gensim's mmap loader, its Cython reader and its internals, one
deliberate difference):
    test_load_mmap                                  gensim's mmap loader (save(sep_limit=0), mmap='r')
    test_cython_linesentence_readline_after_getting_offsets   gensim's Cython corpus reader
    test_get_offsets_and_start_doctags(_win)        byte offsets for that Cython reader's workers
    test_build_vocab_warning                        documents whose words are strings: gensim logs
                                                    a warning and trains on characters; seqlab
                                                    raises one clear error instead
"""

import importlib.util
import types

import pytest

pytest.importorskip("gensim")
import gensim.test.utils  # noqa: E402,F401  (after the importorskip above)
from gensim_compat import leave_out, provide_testfixtures  # noqa: E402

from seqlab.embeddings.doc2vec import Doc2Vec, TaggedDocument  # noqa: E402
from seqlab.embeddings.keyedvectors import KeyedVectors  # noqa: E402


def _gensim_suite():
    """gensim's test module, loaded afresh with seqlab's classes in place of gensim's."""
    provide_testfixtures()
    path = gensim.__path__[0] + "/test/test_doc2vec.py"
    spec = importlib.util.spec_from_file_location("gensim_test_doc2vec_on_seqlab", path)
    module = importlib.util.module_from_spec(spec)
    # the module builds its corpora at import time with doc2vec.TaggedDocument: swap it in first
    source = open(path, encoding="utf-8").read()
    source = source.replace(
        "from gensim.models import doc2vec, keyedvectors",
        "from gensim.models import doc2vec as _gensim_doc2vec, keyedvectors as _gensim_kv\n"
        "doc2vec = _seqlab_doc2vec\nkeyedvectors = _seqlab_keyedvectors",
    )
    module.__dict__["_seqlab_doc2vec"] = types.SimpleNamespace(Doc2Vec=Doc2Vec, TaggedDocument=TaggedDocument)
    module.__dict__["_seqlab_keyedvectors"] = types.SimpleNamespace(KeyedVectors=KeyedVectors)
    exec(compile(source, path, "exec"), module.__dict__)
    return module


_suite = _gensim_suite()
_LEFT_OUT = {
    "test_load_mmap": "gensim's mmap loader",
    "test_cython_linesentence_readline_after_getting_offsets": "gensim's Cython corpus reader",
    "test_get_offsets_and_start_doctags": "byte offsets for gensim's Cython reader's workers",
    "test_get_offsets_and_start_doctags_win": "byte offsets for gensim's Cython reader's workers",
    "test_build_vocab_warning": "seqlab raises an error for words given as a string, gensim only warns",
}


GensimTestDoc2VecModel = leave_out(_suite.TestDoc2VecModel, _LEFT_OUT)
