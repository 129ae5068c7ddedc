"""Unknown-word backoff: which known word an unseen inflection is read as."""

import pytest

from seqlab.translate.backoff import SpellingBackoff, common_prefix


def test_common_prefix():
    assert common_prefix("occupee", "occupe") == 6
    assert common_prefix("abc", "xbc") == 0
    assert common_prefix("", "abc") == 0


def test_inflections_back_off_to_their_known_form():
    b = SpellingBackoff(["occupe", "eveillee", "contagieux", "triste", "fatigue", "fatiguer"])
    assert b("occupees") == "occupe"  # 2 letters more
    assert b("eveilles") == "eveillee"  # same length, last letters differ
    assert b("contagieuse") == "contagieux"  # -euse / -eux: 3 and 2 letters differ
    assert b("tristes") == "triste"
    assert b("fatigues") == "fatiguer"  # both share 7 letters: the one of the same length wins
    assert b("triste") == "triste"  # known words are themselves


def test_no_backoff_when_too_different_or_too_short():
    b = SpellingBackoff(["chanter", "la", "bois"])
    assert b("chansonnier") is None  # 'chan' shared, then 7 letters differ
    assert b("chanson") == "chanter"  # 3 and 3 letters differ: allowed (a known false friend)
    assert b("le") is None  # shorter than the minimum prefix
    assert b("boissons") is None  # 'bois' + 4 more letters
    assert b("xyzzy") is None


def test_ties_go_to_the_more_frequent_word():
    assert SpellingBackoff(["petits", "petite"])("petitz") == "petits"
    assert SpellingBackoff(["petite", "petits"])("petitz") == "petite"


def test_respell_reports_what_changed():
    b = SpellingBackoff(["je", "suis", "occupe"])
    words, changed = b.respell(["je", "suis", "occupees", "zzzzz"])
    assert words == ["je", "suis", "occupe", "zzzzz"]
    assert changed == {"occupees": "occupe"}


def test_bad_parameters():
    with pytest.raises(ValueError):
        SpellingBackoff(["a"], min_prefix=0)
