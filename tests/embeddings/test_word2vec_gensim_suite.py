"""gensim's OWN Word2Vec test cases, run against seqlab's Word2Vec.

gensim ships `gensim/test/test_word2vec.py` with its test data. We load that file as a fresh
module and rebind the names its tests use (`word2vec.Word2Vec`, `keyedvectors.KeyedVectors`) to
seqlab's classes, so every assertion, every corpus and every setting is gensim's own. gensim's
corpus readers (`LineSentence`, `PathLineSentences`) stay gensim's: they are plain Python
iterables that seqlab.Word2Vec reads like any other.

Left out, each for a reason (gensim's pickles, its mmap loader, its Cython reader, and one
deliberate difference):
    test_persistence_backwards_compatible   loads a pickle written by gensim 3.8
    test_load_old_model                     loads a pickle written by an old gensim
    test_load_old_model_separates           loads pickles written by an old gensim
    test_load_old_models_1_x                loads pickles written by gensim 1.x
    test_load_old_models_2_x                loads pickles written by gensim 2.x
    test_load_old_models_3_x                loads pickles written by gensim 3.x
    test_large_mmap                         gensim's mmap loader (save(sep_limit=0), load(mmap='r'))
    test_cython_line_sentence_works_with_filename   gensim's Cython corpus reader
    test_build_vocab_warning                a corpus of strings: gensim logs a warning and trains
                                            on characters; seqlab raises one clear error instead

`testfixtures` (which gensim's tests import for `log_capture`) is not one of seqlab's test
dependencies; where it is missing, a stand-in with the same contract captures the log records.
"""

import importlib.util
import os
import tempfile
import types

import pytest

pytest.importorskip("gensim")
import gensim.test.utils  # noqa: E402  (after the importorskip above)
from gensim.models import word2vec as gensim_word2vec  # noqa: E402
from gensim_compat import leave_out, provide_testfixtures  # noqa: E402

from seqlab.embeddings.keyedvectors import KeyedVectors  # noqa: E402
from seqlab.embeddings.word2vec import Word2Vec  # noqa: E402


def _gensim_suite():
    """gensim's test module, loaded afresh with seqlab's classes in place of gensim's."""
    provide_testfixtures()
    path = gensim.__path__[0] + "/test/test_word2vec.py"
    spec = importlib.util.spec_from_file_location("gensim_test_word2vec_on_seqlab", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.word2vec = types.SimpleNamespace(
        Word2Vec=Word2Vec,
        LineSentence=gensim_word2vec.LineSentence,
        PathLineSentences=gensim_word2vec.PathLineSentences,
    )
    module.keyedvectors = types.SimpleNamespace(KeyedVectors=KeyedVectors)
    return module


_suite = _gensim_suite()
_LEFT_OUT = {
    "test_persistence_backwards_compatible": "loads a pickle written by gensim 3.8",
    "test_load_old_model": "loads a pickle written by an old gensim",
    "test_load_old_model_separates": "loads pickles written by an old gensim",
    "test_load_old_models_1_x": "loads pickles written by gensim 1.x",
    "test_load_old_models_2_x": "loads pickles written by gensim 2.x",
    "test_load_old_models_3_x": "loads pickles written by gensim 3.x",
    "test_large_mmap": "gensim's mmap loader",
    "test_cython_line_sentence_works_with_filename": "gensim's Cython corpus reader",
    # a deliberate difference: gensim logs a warning and trains on the characters of each
    # string; seqlab refuses such a corpus with one clear error
    "test_build_vocab_warning": "seqlab raises an error for an iterable of strings, gensim only warns",
}


GensimTestWord2VecModel = leave_out(_suite.TestWord2VecModel, _LEFT_OUT)
GensimTestWMD = leave_out(_suite.TestWMD, _LEFT_OUT)
GensimTestWord2VecSentenceIterators = leave_out(_suite.TestWord2VecSentenceIterators, _LEFT_OUT)


class GensimTestWord2VecScripts(leave_out(_suite.TestWord2VecScripts, _LEFT_OUT)):
    """gensim's script test writes vec.txt into the working folder: run it in a temporary one."""

    def setUp(self):
        self._cwd = os.getcwd()
        self._tmp = tempfile.TemporaryDirectory()
        os.chdir(self._tmp.name)

    def tearDown(self):
        os.chdir(self._cwd)
        self._tmp.cleanup()
