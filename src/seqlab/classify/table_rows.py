"""The lecture's results table as data: every row's paper numbers (Kim 2014, Table 2, as the
lecture shows it, plus the recursive rows of issue 23), titles, the order of the rows, the rows that
need resources the lecture does not give, and the names `seqlab classify table --rows` accepts.
"""

from __future__ import annotations

from seqlab.classify.estimators import (
    DCNN_RECIPE,
    DCNN_RECIPES,
    KIM_CNN_MODELS,
    MODELS,
    check_conv,
    check_recipe,
)
from seqlab.classify.tree_classifier import TREE_MODELS
from seqlab.errors import SeqlabError

DATASET_TITLES = {
    "mr": "MR",
    "sst1": "SST-1",
    "sst2": "SST-2",
    "subj": "Subj",
    "trec": "TREC",
    "cr": "CR",
    "mpqa": "MPQA",
}
MODEL_TITLES = {
    "cnn-rand": "CNN-rand",
    "cnn-static": "CNN-static",
    "cnn-non-static": "CNN-non-static",
    "cnn-multichannel": "CNN-multichannel",
    "dcnn": "DCNN (Kalchbrenner et al., 2014)",
    "nbsvm": "NBSVM (Wang and Manning, 2012)",
    "mnb": "MNB (Wang and Manning, 2012)",
    "lstm": "LSTM (ours only)",
    "bilstm": "BiLSTM (ours only)",
    "gru": "GRU (ours only)",
    "cnn-rnn": "CNN-RNN hybrid (ours only)",
    "rae": "RAE (Socher et al., 2011)",
    "mv-rnn": "MV-RNN (Socher et al., 2012)",
    "rntn": "RNTN (Socher et al., 2013)",
    "paragraph-vec": "Paragraph-Vec (Le and Mikolov, 2014)",
    "ccae": "CCAE (Hermann and Blunsom, 2013)",
    "sent-parser": "Sent-Parser (Dong et al., 2014)",
    "g-dropout": "G-Dropout (Wang and Manning, 2013)",
    "f-dropout": "F-Dropout (Wang and Manning, 2013)",
    "tree-crf": "Tree-CRF (Nakagawa et al., 2010)",
    "crf-pr": "CRF-PR (Yang and Cardie, 2014)",
    "svm-s": "SVM_S (Silva et al., 2011)",
    "recnn": "RecNN (Socher et al., 2013; beyond the lecture's table)",
    "tree-lstm": "Tree-LSTM (Tai et al., 2015; beyond the lecture's table)",
}

DCNN_RECIPE_TITLES = {"b4": "batches of 4 (authors' code)", "b50": "batches of 50"}
ORDER = ("mr", "sst1", "sst2", "subj", "trec", "cr", "mpqa")
_ROWS = {  # Kim (2014) Table 2, as in the lecture; None = "–" (not reported)
    "cnn-rand": (76.1, 45.0, 82.7, 89.6, 91.2, 79.8, 83.4),
    "cnn-static": (81.0, 45.5, 86.8, 93.0, 92.8, 84.7, 89.6),
    "cnn-non-static": (81.5, 48.0, 87.2, 93.4, 93.6, 84.3, 89.5),
    "cnn-multichannel": (81.1, 47.4, 88.1, 93.2, 92.2, 85.0, 89.4),
    "dcnn": (None, 48.5, 86.8, None, 93.0, None, None),
    "nbsvm": (79.4, None, None, 93.2, None, 81.8, 86.3),
    "mnb": (79.0, None, None, 93.6, None, 80.0, 86.3),
    "rae": (77.7, 43.2, 82.4, None, None, None, 86.4),
    "mv-rnn": (79.0, 44.4, 82.9, None, None, None, None),
    "rntn": (None, 45.7, 85.4, None, None, None, None),
    "paragraph-vec": (None, 48.7, 87.8, None, None, None, None),
    "ccae": (77.8, None, None, None, None, None, 87.2),  # "CCAIE" on the slide
    "sent-parser": (79.5, None, None, None, None, None, 86.3),
    "g-dropout": (79.0, None, None, 93.4, None, 82.1, 86.1),
    "f-dropout": (79.1, None, None, 93.6, None, 81.9, 86.3),
    "tree-crf": (77.3, None, None, None, None, 81.4, 86.1),
    "crf-pr": (None, None, None, None, None, 82.7, None),
    "svm-s": (None, None, None, None, 95.0, None, None),
    # beyond the lecture's table (issue 23): Socher et al. (2013)'s plain recursive net, whose SST
    # numbers the slide's RAE row repeats, and Tai et al. (2015)'s constituency Tree-LSTM (300-d GloVe)
    "recnn": (None, 43.2, 82.4, None, None, None, None),
    "tree-lstm": (None, 51.0, 88.0, None, None, None, None),
}
# The lecture's rows in its order, then ours; every name `--rows` accepts (Kim's CNN may add
# :wide, the DCNN :b4). UNAVAILABLE rows need resources the lecture does not give: they print
# "—" beside the paper's number, with what they would need as a footnote, and never train.
TABLE_ROWS = (
    "cnn-rand",
    "cnn-static",
    "cnn-non-static",
    "cnn-multichannel",
    "rae",
    "mv-rnn",
    "rntn",
    "dcnn",
    "paragraph-vec",
    "ccae",
    "sent-parser",
    "nbsvm",
    "mnb",
    "g-dropout",
    "f-dropout",
    "tree-crf",
    "crf-pr",
    "svm-s",
    "recnn",
    "tree-lstm",
    "lstm",
    "bilstm",
    "gru",
    "cnn-rnn",
)
UNAVAILABLE = {
    "ccae": "a CCG parser (CCAE composes along CCG parse trees with combinatory-category-specific "
    "autoencoders; Hermann & Blunsom used C&C's parses)",
    "sent-parser": "a dependency parser trained on an external corpus of reviews (Dong et al. learn a "
    "sentiment grammar from a review corpus the lecture does not give)",
    "tree-crf": "a dependency parser and polarity lexicons (the CRF's hidden variables are the polarities "
    "of dependency subtrees, seeded from the lexicons)",
    "crf-pr": "polarity lexicons and discourse-connective constraints (posterior regularisation of a "
    "sentence CRF with lexical and discourse constraints)",
    "svm-s": "a parser's head words, WordNet hypernyms and 60 hand-written rules as TREC features",
}
PAPER: dict[str, dict[str, float | None]] = {m: dict(zip(ORDER, row)) for m, row in _ROWS.items()}
DEFAULT_ROWS = (
    "cnn-rand",
    "cnn-rand:wide",
    "cnn-static",
    "cnn-non-static",
    "cnn-multichannel",
    "dcnn",
    "nbsvm",
    "mnb",
)


TREE_DATASETS = ("sst1", "sst2")  # the sets whose examples come with the treebank's parse trees


def applies(model: str, dataset: str) -> bool:
    """Whether the table has a cell of `model` on `dataset` (else it prints "—" there). Every row
    applies everywhere but the recursive nets (TREE_MODELS), which train on parse trees: on SST's
    own trees, and on MR (its sentences on the treebank's trees) only where the paper has a number
    (MV-RNN's 79.0)."""
    if model not in TREE_MODELS:
        return True
    return dataset in TREE_DATASETS or (dataset == "mr" and PAPER[model].get("mr") is not None)


def parse_row(row: str) -> tuple[str, str]:
    """A table row -> (model, option): the convolution of Kim's CNN ("cnn-rand" -> ("cnn-rand",
    "narrow"), "cnn-rand:wide" -> ("cnn-rand", "wide")) or the DCNN's training recipe ("dcnn" ->
    ("dcnn", DCNN_RECIPE), "dcnn:b4" -> ("dcnn", "b4")); other rows take no suffix. Every row of
    TABLE_ROWS is accepted, trainable (in MODELS) or not."""
    model, colon, opt = row.partition(":")
    known = TABLE_ROWS + tuple(m for m in MODELS if m not in TABLE_ROWS)
    if model not in known:
        raise SeqlabError(f"unknown model {model!r}; one of {', '.join(known)} (Kim's CNN may add :wide)")
    if model == "dcnn":
        return model, check_recipe(opt) if colon else DCNN_RECIPE
    if colon and model not in KIM_CNN_MODELS:
        raise SeqlabError(
            f"{row!r}: only Kim's CNN rows ({', '.join(KIM_CNN_MODELS)}) take :narrow or :wide, "
            f"and the DCNN's :{' or :'.join(DCNN_RECIPES)}"
        )
    return model, check_conv(opt) if colon else "narrow"


def expand_rows(rows) -> tuple[str, ...]:
    """The rows of `--rows`, with "all" standing for every row of TABLE_ROWS."""
    out = []
    for r in rows:
        out += TABLE_ROWS if r == "all" else (r,)
    return tuple(dict.fromkeys(out))


def untrainable_message(model: str) -> str:
    """One line saying why a row of the table cannot be trained here (None if it can)."""
    if model in UNAVAILABLE:
        return f"{model}: needs {UNAVAILABLE[model]}; the table prints the paper's number only"
    if model not in MODELS:
        return (
            f"{model}: a row of the lecture's table, but not trainable in this seqlab yet (no estimator "
            "registered in seqlab.classify.estimators.MODELS); --cached-only prints its paper numbers"
        )
    return ""


def row_title(row: str) -> str:
    model, opt = parse_row(row)
    if model == "dcnn":
        return MODEL_TITLES[model] + ("" if opt == DCNN_RECIPE else ", " + DCNN_RECIPE_TITLES[opt])
    return MODEL_TITLES[model] + (", wide conv" if opt == "wide" else "")
