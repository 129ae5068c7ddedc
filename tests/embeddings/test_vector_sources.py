"""`load_vectors` as gensim users reach for it (issue 25): a model file of `Word2Vec.save` (and
GloVe / PPMI) loads as its vectors, a pickle written by gensim's own `save` is refused without
being unpickled, and a gensim-downloader name gets one line naming what seqlab knows and how to
point at a file."""

from __future__ import annotations

import pickle
import random
from pathlib import Path

import numpy as np
import pytest

import seqlab
from seqlab.embeddings.vector_sources import GENSIM_DATA, PRETRAINED, load_vectors
from seqlab.errors import SeqlabError


@pytest.fixture(scope="module")
def sentences():
    rng = random.Random(0)
    words = "the cat sat on a mat dog ran in park".split()
    return [[rng.choice(words) for _ in range(12)] for _ in range(200)]


def same_vectors(kv, wv) -> None:
    assert list(kv.index_to_key) == list(wv.index_to_key)
    np.testing.assert_array_equal(kv.vectors, wv.vectors)


@pytest.mark.parametrize("name", ["w2v.npz", "w2v.model", "no_suffix"])
def test_a_word2vec_model_file_loads_as_its_vectors(tmp_path, sentences, name):
    model = seqlab.Word2Vec(sentences, vector_size=8, min_count=1, epochs=1, workers=1, seed=1)
    model.save(tmp_path / name)
    kv = load_vectors(tmp_path / name)
    same_vectors(kv, model.wv)
    for w in model.wv.index_to_key:  # the counts come along, as gensim's wv has them
        assert kv.get_vecattr(w, "count") == model.wv.get_vecattr(w, "count") > 0
    assert kv.most_similar("cat", topn=3) == model.wv.most_similar("cat", topn=3)
    assert load_vectors(str(tmp_path / name)).index_to_key == kv.index_to_key  # str or Path


def test_ppmi_model_files_load_too(tmp_path, sentences):
    model = seqlab.PPMI(sentences, vector_size=4, window=2, min_count=1)
    model.save(tmp_path / "ppmi.npz")
    same_vectors(load_vectors(tmp_path / "ppmi.npz"), model.wv)


def test_a_foreign_npz_is_one_line(tmp_path):
    np.savez(tmp_path / "other.npz", x=np.zeros(3))
    with pytest.raises(SeqlabError, match="not a seqlab model file") as e:
        load_vectors(tmp_path / "other.npz")
    assert "\n" not in str(e.value)


class Trap:
    """Unpickling this creates a file: proof that a pickle was (or was not) loaded."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def test_a_pickle_is_refused_and_never_unpickled(tmp_path):
    marker = tmp_path / "unpickled"
    (tmp_path / "gensim.model").write_bytes(pickle.dumps(Trap(marker), protocol=4))
    with pytest.raises(SeqlabError, match="pickle") as e:
        load_vectors(tmp_path / "gensim.model")
    assert "save_word2vec_format" in str(e.value) and "\n" not in str(e.value)
    assert not marker.exists()


def test_a_file_gensim_saved_is_refused(tmp_path, sentences):
    gensim = pytest.importorskip("gensim")
    model = gensim.models.Word2Vec(sentences, vector_size=8, min_count=1, epochs=1, workers=1, seed=1)
    model.save(str(tmp_path / "gensim.model"))
    with pytest.raises(SeqlabError, match="pickle"):
        load_vectors(tmp_path / "gensim.model")
    model.wv.save_word2vec_format(str(tmp_path / "v.bin"), binary=True)  # what the message says to do
    kv = load_vectors(tmp_path / "v.bin")
    assert list(kv.index_to_key) == list(model.wv.index_to_key)
    np.testing.assert_allclose(kv.vectors, model.wv.vectors)


@pytest.mark.parametrize("name", ["glove-wiki-gigaword-50", "word2vec-google-news-300", "Glove-Twitter-25"])
def test_gensim_downloader_names_say_what_to_do(name):
    with pytest.raises(SeqlabError) as e:
        load_vectors(name)
    line = str(e.value)
    assert "\n" not in line and repr(name) in line and "downloads nothing" in line
    assert f"known name ({', '.join(PRETRAINED)})" in line  # the names seqlab knows
    assert "save_word2vec_format" in line and "path" in line  # how to point at a file
    if GENSIM_DATA[name.lower()]:
        assert f"same vectors as seqlab's {GENSIM_DATA[name.lower()]!r}" in line


@pytest.mark.parametrize(
    "spec, needles",
    [
        ("fasttext-en", ("neither a file nor a known name (glove-6b-50d)", "path")),
        ("missing/vectors.txt", ("'missing/vectors.txt' is neither a file", "word2vec", "Word2Vec.save")),
        ("missing.bin", ("'missing.bin'", "GloVe")),
    ],
)
def test_anything_else_not_found_is_one_line(spec, needles):
    with pytest.raises(SeqlabError, match="vectors not found") as e:
        load_vectors(spec)
    assert "\n" not in str(e.value) and all(n in str(e.value) for n in needles)
