"""Long checks of the char LM (run with `pytest -m slow`; not in the default suite)."""

import json

import pytest

from seqlab.cli import main


@pytest.mark.slow
def test_names_model_learns_real_structure_in_three_minutes(capsys):
    """The bundled names: validation loss well below the 2.48 of a bigram model; names are new."""
    code = main(["names", "-n", "50", "--seed", "0", "--train-minutes", "3"])
    out, err = capsys.readouterr()
    assert code == 0, err
    names = out.split()
    assert len(names) == 50 and len(set(names)) == 50
    from seqlab.datasets import bundled_names_file

    assert not set(names) & set(bundled_names_file().read_text().split())
    assert "validation loss" in err
    val = float(err.split("validation loss")[1].split()[0])
    assert val < 2.1


@pytest.mark.slow
@pytest.mark.needs_data("tinyshakespeare")
def test_shakespeare_five_minutes_beats_unigram_by_far(tmp_path, capsys):
    from seqlab.datasets import dataset_path

    run = tmp_path / "run"
    code = main(["lm", "train", str(dataset_path("tinyshakespeare")), "-o", str(run), "--max-minutes", "5"])
    assert code == 0
    m = json.loads((run / "metrics.json").read_text())
    assert m["val_loss"] < 1.8  # unigram entropy of the text is ~3.3 nats/char
