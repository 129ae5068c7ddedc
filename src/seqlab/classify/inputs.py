"""What every classifier accepts as X and y, checked in one place (scikit-learn's `check_X_y`, for text).

X is a sequence of sentences, each either a whitespace-tokenized string ("a gorgeous , witty film")
or a list of tokens (["a", "gorgeous", ",", "witty", "film"], the input format of `Word2Vec`). A
token list is joined with single spaces, so the classifiers' whitespace split gives back exactly
its tokens; a token that is empty or holds whitespace could not survive that, and is refused.
A list, tuple, NumPy array or pandas Series works; one bare string does not (it would be read as a
list of one-character sentences). y holds one label per sentence (any sortable values).

Every problem is a `ParameterError` naming the Python argument (`X`, `y`, `X_dev`, `y_dev`): a
SeqlabError for the CLI and a ValueError, as scikit-learn's own checks raise.
"""

from __future__ import annotations

import numpy as np

from seqlab.errors import ParameterError


def as_texts(X, parameter: str = "X") -> list[str]:
    """The sentences of X as whitespace-tokenized strings (token lists joined with single spaces)."""
    if isinstance(X, (str, bytes)):
        raise ParameterError(parameter, "must be a list of sentences, not one string; wrap it: [text]")
    if hasattr(X, "columns"):  # a pandas DataFrame iterates over its column names
        raise ParameterError(parameter, "must be one column of texts (a list or a Series), not a table")
    try:
        items = list(X)
    except TypeError:
        raise ParameterError(parameter, f"must be a list of sentences, got {type(X).__name__}") from None
    texts = []
    for i, item in enumerate(items):
        if isinstance(item, str):
            texts.append(item)
        elif isinstance(item, (list, tuple, np.ndarray)):
            texts.append(_join_tokens(item, parameter, i))
        else:
            raise ParameterError(
                parameter,
                f"must hold sentences (strings) or token lists (lists of strings); "
                f"item {i} is {type(item).__name__}",
            )
    return texts


def _join_tokens(tokens, parameter: str, i: int) -> str:
    tokens = list(tokens)
    for t in tokens:
        if not isinstance(t, str):
            kind = type(t).__name__
            raise ParameterError(parameter, f"item {i} is a token list holding {kind}, not strings")
    text = " ".join(tokens)
    if len(text.split()) != len(tokens):
        bad = next(t for t in tokens if len(t.split()) != 1)
        raise ParameterError(
            parameter,
            f"item {i}: token {bad!r} is empty or holds whitespace, so splitting the sentence on "
            "whitespace would not give it back",
        )
    return text


def check_fit_data(X, y, X_name: str = "X", y_name: str = "y") -> tuple[list[str], np.ndarray]:
    """(sentences, labels as a 1-D array) for `fit`: X not empty, one label per sentence."""
    texts = as_texts(X, X_name)
    labels = np.asarray(y)
    if labels.ndim != 1:
        raise ParameterError(y_name, f"must be one label per sentence (1-D), got shape {labels.shape}")
    if not texts:
        raise ParameterError(X_name, "is empty: fitting needs at least one sentence")
    if len(texts) != len(labels):
        raise ParameterError(
            y_name,
            f"has {len(labels)} labels but {X_name} has {len(texts)} sentences; one label per sentence",
        )
    return texts, labels


def check_classes(labels: np.ndarray, y_name: str = "y") -> np.ndarray:
    """The sorted distinct labels; a classifier needs at least two."""
    classes = np.unique(labels)
    if len(classes) < 2:
        raise ParameterError(
            y_name,
            f"holds one class ({classes.tolist()[0]!r}); a classifier needs at least two classes to learn",
        )
    return classes
