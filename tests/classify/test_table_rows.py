"""`seqlab classify table` knows every row of the lecture's table: its paper numbers (checked
against the lecture's own text), the rows that cannot be trained here, `--rows` and `all`."""

import os
import re
from pathlib import Path

import pytest

from seqlab.classify.estimators import MODELS
from seqlab.classify.table import TableConfig, build_table, cache_file
from seqlab.classify.table_rows import (
    MODEL_TITLES,
    ORDER,
    PAPER,
    TABLE_ROWS,
    UNAVAILABLE,
    expand_rows,
    parse_row,
)
from seqlab.cli import main
from seqlab.errors import SeqlabError

LECTURE = Path(os.environ.get("SEQLAB_LECTURE", "/work/shared/lecture/000_1f042ae86e0b771d.txt"))


def _lecture_table() -> dict[str, tuple]:
    """The slide 'Approaches comparison' parsed from the lecture's text: title -> 7 numbers."""
    text = LECTURE.read_text(encoding="utf-8")
    block = text.split("Approaches comparison", 1)[1].split("\n\n")[1]
    rows = {}
    for line in block.strip().splitlines()[1:]:  # after the header
        title, *cells = line.split("\t")
        rows[title.strip()] = tuple(None if c.strip() == "—" else float(c) for c in cells)
    return rows


@pytest.mark.skipif(not LECTURE.exists(), reason="the lecture's text is not on this machine")
def test_every_row_of_the_lecture_has_its_paper_numbers():
    lecture = _lecture_table()
    assert len(lecture) == 18
    by_title = {re.sub(r"\W", "", MODEL_TITLES[m].split(" (")[0]).lower(): m for m in TABLE_ROWS}
    by_title["ccaie"] = by_title.pop("ccae")  # the slide's spelling of Hermann & Blunsom's CCAE
    for title, numbers in lecture.items():
        model = by_title[re.sub(r"\W", "", title.split(" (")[0]).lower()]
        assert tuple(PAPER[model][d] for d in ORDER) == numbers, title


def test_every_table_row_parses_and_unknown_names_list_them():
    for row in TABLE_ROWS:
        assert parse_row(row)[0] == row
    with pytest.raises(SeqlabError, match="unknown model 'cnn-huge'.*tree-crf"):
        parse_row("cnn-huge")
    with pytest.raises(SeqlabError, match="only Kim's CNN rows"):
        parse_row("rae:wide")
    assert expand_rows(["all"]) == TABLE_ROWS
    assert expand_rows(["mnb", "all", "mnb"]) == ("mnb",) + tuple(r for r in TABLE_ROWS if r != "mnb")
    assert set(MODELS) <= set(TABLE_ROWS)


def test_rows_without_an_estimator_refuse_to_train_in_one_line(tmp_path):
    pending = [m for m in TABLE_ROWS if m not in MODELS and m not in UNAVAILABLE]
    for m in pending:
        with pytest.raises(SeqlabError, match=f"^{m}: .*not trainable in this seqlab yet") as e:
            TableConfig(datasets=("mr",), models=(m,)).check_can_train()
        assert "\n" not in str(e.value)
    # the unavailable rows never train, so they pass
    TableConfig(datasets=("mr",), models=tuple(UNAVAILABLE)).check_can_train()


def test_cached_only_prints_every_row_with_the_papers_numbers(tmp_path, capsys):
    out = tmp_path / "T.md"
    rc = main(
        ["classify", "table", "-o", str(out), "--datasets", "mr", "cr", "--rows", "all", "--cached-only"]
    )
    assert rc == 0
    md = out.read_text()
    assert "| CCAE (Hermann and Blunsom, 2013) ² | — / 77.8 | — |" in md
    assert "| Tree-CRF (Nakagawa et al., 2010) ² | — / 77.3 | — / 81.4 |" in md
    assert "| F-Dropout (Wang and Manning, 2013) | · / 79.1 | · / 81.9 |" in md
    for m in UNAVAILABLE:
        assert f"- ² {MODEL_TITLES[m]}: would need {UNAVAILABLE[m]}" in md
    # the lecture's order: RAE after the CNNs, SVM_S last of its rows
    assert md.index("CNN-multichannel") < md.index("RAE (") < md.index("MV-RNN") < md.index("SVM_S")


def test_rows_is_an_alias_of_models(tmp_path):
    a, b = tmp_path / "a.md", tmp_path / "b.md"
    common = ["classify", "table", "--datasets", "mr", "--cached-only"]
    assert main(common + ["-o", str(a), "--rows", "mnb", "svm-s"]) == 0
    assert main(common + ["-o", str(b), "--models", "mnb", "svm-s"]) == 0
    assert a.read_text().split("Notes:")[0] == b.read_text().split("Notes:")[0]


def test_linear_rows_have_no_epochs_in_their_cache_key(tmp_path):
    cfg = TableConfig()
    assert cache_file(tmp_path, cfg, "mr", "f-dropout", 0, True).name == "mr__f-dropout__s0__fold1of10.json"
    assert cache_file(tmp_path, cfg, "mr", "g-dropout", 0, True).name == "mr__g-dropout__s0__fold1of10.json"
    assert cache_file(tmp_path, cfg, "mr", "rae", 0, True).name == "mr__rae__e25__s0__fold1of10.json"


def test_f_dropout_cell_trains_in_the_table(tmp_path, monkeypatch):
    """A tiny CV set through the table: the linear row trains, the unavailable row is skipped."""
    from seqlab.classify.data import SentenceDataset

    X = [f"{'great superb' if i % 2 else 'awful dull'} w{i % 7}" for i in range(60)]
    y = [i % 2 for i in range(60)]
    ds = SentenceDataset("mr", ("neg", "pos"), "kim", True, (X, y))
    monkeypatch.setattr("seqlab.classify.table.load_dataset", lambda name, sst_train="phrases": ds)
    md = build_table(TableConfig(datasets=("mr",), models=("f-dropout", "ccae"), folds=3), tmp_path / "T.md")
    assert "| F-Dropout (Wang and Manning, 2013) | 100.0 / 79.1 (+20.9) |" in md
    assert "| CCAE (Hermann and Blunsom, 2013) ² | — / 77.8 |" in md
