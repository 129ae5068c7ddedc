"""The embeddings wing's one corpus reader, vocabulary rule and encoder (memory and disk)."""

import gzip
import sys

import numpy as np
import pytest

from seqlab.embeddings import corpus as C
from seqlab.embeddings.corpus import (
    Vocabulary,
    WordIndex,
    build_vocab,
    encode_corpus,
    order_vocabulary,
    read_sentences,
)
from seqlab.errors import SeqlabError

TINY = [["a", "b", "a", "c"], ["b", "a"]]  # vocabulary by count: a(3) b(2) c(1)


def test_vocabulary_rule_count_then_alphabetical():
    # d, c and b each occur twice, first seen in the order d c b: ties go alphabetical
    lines = [["d", "c", "x"], ["b", "x", "x"], ["d", "c", "b"], ["z"]]
    v = build_vocab(lines)
    assert v.words == ["x", "b", "c", "d", "z"] and list(v.counts) == [3, 2, 2, 2, 1]
    assert v.corpus_words == 10
    # the rule does not depend on line order (first appearance would change here)
    assert build_vocab(lines[::-1]).words == v.words
    assert build_vocab(lines, min_count=2).words == ["x", "b", "c", "d"]
    assert build_vocab(lines, max_vocab=2).words == ["x", "b"]
    # Unicode code points, not locale: upper case before lower case
    assert build_vocab([["b", "B", "a"]]).words == ["B", "a", "b"]
    # order_vocabulary itself returns indices into the given words
    assert list(order_vocabulary(["p", "q", "r"], np.array([1, 5, 1]))) == [1, 0, 2]


def test_every_method_uses_the_same_vocabulary():
    """word2vec, GloVe and PPMI vectors come in build_vocab's order."""
    from seqlab.embeddings.config import GloveConfig, PPMIConfig, Word2VecConfig
    from seqlab.embeddings.train import train_vectors

    rng = np.random.default_rng(0)
    words = [f"w{i}" for i in range(12)]
    lines = [list(rng.choice(words, size=8)) for _ in range(60)]
    want = build_vocab(lines, min_count=2)
    for cfg in (
        Word2VecConfig(vector_size=4, min_count=2, epochs=1, workers=1),
        GloveConfig(vector_size=4, min_count=2, epochs=1),
        PPMIConfig(vector_size=4, min_count=2),
    ):
        kv, _ = train_vectors(lines, cfg)
        assert kv.index_to_key == want.words, type(cfg).__name__
        assert list(kv.expandos["count"]) == list(want.counts), type(cfg).__name__  # counts attached


def test_build_vocab_errors_and_files(tmp_path):
    v = build_vocab(TINY)
    assert v.words == ["a", "b", "c"] and list(v.counts) == [3, 2, 1] and v.corpus_words == 6
    with pytest.raises(SeqlabError, match="fewer than min_count=5"):
        build_vocab(TINY, min_count=5)
    with pytest.raises(SeqlabError, match="empty"):
        build_vocab([[], []])
    p = tmp_path / "c.txt.gz"
    p.write_bytes(gzip.compress(b"a b a c\n\nb a\n"))
    assert build_vocab(p).words == ["a", "b", "c"]
    (tmp_path / "empty.txt").write_text("")
    with pytest.raises(SeqlabError, match="empty"):
        build_vocab(tmp_path / "empty.txt")


def test_reader_errors(tmp_path):
    with pytest.raises(SeqlabError, match="lists of tokens"):
        list(read_sentences(["a sentence as a string"]))
    with pytest.raises(SeqlabError, match="iterable"):
        list(read_sentences(123))
    bad = tmp_path / "latin1.txt"
    bad.write_bytes("caf\xe9 au lait\n".encode("latin-1"))
    with pytest.raises(SeqlabError, match="UTF-8"):
        list(read_sentences(bad))
    with pytest.raises(SeqlabError, match="strings"):
        WordIndex().encode(["a", 3])
    assert list(read_sentences([("a", "b"), [], ["c"]])) == [["a", "b"], ["c"]]


def test_encode_removes_rare_words_and_empty_sentences():
    enc = encode_corpus([["b", "a", "c", "a"], [], ["c"], ["e"], ["a", "b"]], min_count=2)
    assert enc.words == ["a", "b", "c"] and list(enc.counts) == [3, 2, 2]
    assert enc.vocab.corpus_words == 8
    assert list(enc.ids) == [1, 0, 2, 0, 2, 0, 1]
    assert list(enc.starts) == [0, 4, 5, 7]  # the line of "e" alone disappears
    assert enc.storage == "memory"


def test_long_lines_are_cut_before_rare_words_go():
    enc = encode_corpus([["x"] * 10], max_sentence=4)
    assert list(enc.starts) == [0, 4, 8, 10]
    enc = encode_corpus([["x", "x", "rare", "x", "x", "x"], ["x"]], min_count=2, max_sentence=3)
    assert list(enc.starts) == [0, 2, 5, 6]  # pieces [x x rare] [x x x] [x]


def random_corpus(n_lines=400, seed=0):
    rng = np.random.default_rng(seed)
    words = [f"w{i}" for i in range(300)]
    p = 1.0 / np.arange(1, 301)
    return [list(rng.choice(words, size=rng.integers(1, 40), p=p / p.sum())) for _ in range(n_lines)]


@pytest.mark.parametrize("storage", ["disk", "auto"])
def test_disk_storage_gives_the_same_arrays(monkeypatch, tmp_path, storage):
    lines = random_corpus()
    monkeypatch.setattr(C, "CHUNK_TOKENS", 500)  # many chunks
    mem = encode_corpus(lines, min_count=3, max_sentence=16, storage="memory")
    disk = encode_corpus(
        lines, min_count=3, max_sentence=16, storage=storage, tmp_dir=tmp_path, memory_tokens=1200
    )  # "auto" spills to disk after 1200 tokens
    assert disk.storage == "disk"
    assert disk.words == mem.words and np.array_equal(disk.counts, mem.counts)
    assert np.array_equal(disk.ids, mem.ids) and np.array_equal(disk.starts, mem.starts)
    assert not disk.ids.flags.writeable and not mem.ids.flags.writeable
    assert list(tmp_path.iterdir()) == []  # the id file is unlinked from the start
    chunks = list(disk.chunks(700))  # reading releases pages; the data stay
    assert np.array_equal(np.concatenate([c[0] for c in chunks]), mem.ids)
    assert np.array_equal(disk.ids, mem.ids)
    disk.close()
    assert disk.ids is None


def test_auto_stays_in_memory_below_the_threshold():
    assert encode_corpus(random_corpus(50), storage="auto").storage == "memory"
    with pytest.raises(SeqlabError, match="storage"):
        encode_corpus(TINY, storage="tape")
    with pytest.raises(SeqlabError, match="temporary|corpus id file"):
        encode_corpus(TINY, storage="disk", tmp_dir="/nonexistent/dir")


def test_vocabulary_indexes_its_words():
    v = Vocabulary(["a", "b"], np.array([3, 2]), 5)
    assert len(v) == 2 and v.key_to_index == {"a": 0, "b": 1}


def _id_map_rss_kib(enc) -> int:
    """Resident KiB of the disk corpus's id map (from /proc/self/smaps)."""
    start = enc.ids.ctypes.data
    inside = False
    with open("/proc/self/smaps") as f:
        for line in f:
            head = line.split(maxsplit=1)[0]
            if "-" in head and not head.endswith(":"):
                lo, hi = (int(x, 16) for x in head.split("-"))
                inside = lo <= start < hi
            elif inside and head == "Rss:":
                return int(line.split()[1])
    raise AssertionError("id map not found")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/smaps")
@pytest.mark.parametrize("align,leaks", [(C.RELEASE_ALIGN, False), (C._PAGE, True)])
def test_released_jobs_leave_nothing_mapped(tmp_path, monkeypatch, align, leaks):
    """Reading the id file job by job and releasing each job keeps it out of memory. Releasing
    only the job's own pages is not enough: the page cache maps large folios whole."""
    from seqlab.embeddings.word2vec_train import split_jobs

    rng = np.random.default_rng(1)
    lines = [" ".join(f"w{i}" for i in rng.integers(0, 500, size=5000)) for _ in range(400)]
    path = tmp_path / "c.txt"
    path.write_text("\n".join(lines) + "\n")  # 2M tokens: an 8 MB id file
    enc = encode_corpus(path, storage="disk", tmp_dir=tmp_path)
    monkeypatch.setattr(C, "RELEASE_ALIGN", align)
    for s_lo, s_hi, _ in split_jobs(enc.starts, 50_000):
        lo, hi = int(enc.starts[s_lo]), int(enc.starts[s_hi])
        int(enc.ids[lo:hi].sum())  # read the job's ids
        enc.release(lo, hi)
    left = _id_map_rss_kib(enc)
    if leaks:
        if left == 0:
            pytest.skip("this kernel maps the page cache page by page: nothing to leak")
        assert left > 1024
    else:
        assert left == 0, left
    enc.close()
