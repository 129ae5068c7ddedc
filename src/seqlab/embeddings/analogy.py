"""Analogy queries written as arithmetic: "king - man + woman" -> the positive and negative words
of KeyedVectors.most_similar (3CosAdd, Mikolov et al. 2013). Shared by `seqlab embed analogy` and
the web API (seqlab.serve).
"""

from __future__ import annotations

from seqlab.errors import SeqlabError


def parse_expression(expr: str) -> tuple[list[str], list[str]]:
    """'king - man + woman' -> (['king', 'woman'], ['man']). Operators are separate tokens or
    glued to the front of a word ('-man'); hyphens inside words are kept ('well-known')."""
    positive: list[str] = []
    negative: list[str] = []
    sign = None
    for tok in expr.split():
        if tok in ("+", "-"):
            if sign is not None:
                raise SeqlabError(f"two operators in a row in {expr!r}")
            sign = tok
            continue
        if tok[0] in "+-" and len(tok) > 1:
            if sign is not None:
                raise SeqlabError(f"two operators in a row in {expr!r}")
            sign, tok = tok[0], tok[1:]
        if sign is None and (positive or negative):
            raise SeqlabError(f"missing + or - between words in {expr!r} "
                              "(write e.g. 'king - man + woman')")
        (negative if sign == "-" else positive).append(tok)
        sign = None
    if sign is not None:
        raise SeqlabError(f"expression {expr!r} ends with an operator")
    if not positive:
        raise SeqlabError(f"expression {expr!r} needs at least one word added "
                          "(e.g. 'king - man + woman')")
    return positive, negative
