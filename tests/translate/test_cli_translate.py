"""`seqlab translate train | eval | RUN SENTENCE`: smoke runs on a tiny TSV and every error path."""

import json
import random
import shutil

import pytest
import torch

from seqlab.cli import main
from seqlab.translate.translator import Translator

WORDS = "ka lo mi nu pe ro sa ti".split()


@pytest.fixture(autouse=True)
def one_thread():
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


def tiny_tsv(path, n=240, seed=0):
    """LEFT = words, RIGHT = the same words with an 'x' suffix (a copy language, two vocabularies)."""
    rng = random.Random(seed)
    lines = []
    for _ in range(n):
        s = [rng.choice(WORDS) for _ in range(rng.randint(2, 5))]
        lines.append(" ".join(s).capitalize() + ".\t" + " ".join(w + "x" for w in s) + " !")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


SMALL = [
    "--emb-size",
    "16",
    "--hidden-size",
    "32",
    "--batch-size",
    "32",
    "--max-epochs",
    "3",
    "--max-minutes",
    "1",
    "--lr",
    "0.01",
    "--beam",
    "2",
]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("translate")
    pairs = tiny_tsv(tmp / "pairs.tsv", n=600)
    run = tmp / "run"
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    try:  # enough to learn the copy language (BLEU ~90, 2 s)
        assert (
            main(
                [
                    "translate",
                    "train",
                    str(pairs),
                    "-o",
                    str(run),
                    "--max-len",
                    "6",
                    *SMALL,
                    "--max-epochs",
                    "8",
                    "--emb-size",
                    "32",
                    "--hidden-size",
                    "64",
                    "--lr",
                    "0.02",
                ]
            )
            == 0
        )
    finally:
        torch.set_num_threads(old)
    return run


def test_train_writes_metrics_and_checkpoint(run_dir):
    m = json.loads((run_dir / "metrics.json").read_text())
    for key in ("val_loss", "bleu", "seconds"):
        assert isinstance(m[key], (int, float))
    assert m["bleu"] > 60 and 0 < m["val_loss"] < 0.5 and m["seconds"] > 0  # untrained: BLEU ~0, ln V ~ 2.5
    assert m["decoder"] == "beam2" and m["epochs"] == 8
    assert (run_dir / "model.pt").is_file()
    assert not [p for p in run_dir.iterdir() if p.name.endswith(".tmp")]  # atomic writes left nothing behind


def test_translate_a_sentence_and_plot(run_dir, tmp_path, capsys):
    png = tmp_path / "attn.png"
    assert main(["translate", str(run_dir), "Ka lo mi.", "--beam", "3", "--plot", str(png)]) == 0
    out = capsys.readouterr().out.strip()
    assert out == "kax lox mix !"  # the copy language's answer
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_unknown_words_are_noted_on_stderr(run_dir, capsys):
    assert main(["translate", str(run_dir), "ka zzz lo"]) == 0
    captured = capsys.readouterr()
    assert "zzz" in captured.err and captured.out.strip()


def test_eval_prints_bleu_and_samples(run_dir, capsys):
    assert main(["translate", "eval", str(run_dir), "--beam", "1", "--samples", "2"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("BLEU ") and "greedy" in out[0]
    assert len(out) == 1 + 2 * 3 and out[1].startswith("> ") and out[2].startswith("= ")


def test_direction_reverse_swaps_the_languages(tmp_path, capsys):
    pairs = tiny_tsv(tmp_path / "p.tsv", n=60)
    run = tmp_path / "rev"
    assert (
        main(
            [
                "translate",
                "train",
                str(pairs),
                "-o",
                str(run),
                "--reverse",
                "--max-len",
                "6",
                *SMALL[:6],
                "--max-epochs",
                "1",
            ]
        )
        == 0
    )
    capsys.readouterr()
    assert main(["translate", str(run), "kax lox"]) == 0  # right column is now the source
    assert main(["translate", str(run), "ka lo"]) == 2
    assert "no known words" in capsys.readouterr().err


def error_line(capsys):
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("seqlab: error: "), err
    return err[0]


@pytest.mark.parametrize(
    "sentence,match",
    [
        ("", "empty sentence"),
        (" ... ", "empty sentence"),
        ("zzz qqq", "no known words"),
        ("ka lo mi nu pe ro sa", "at most 6"),
    ],
)
def test_bad_sentences(run_dir, capsys, sentence, match):
    assert main(["translate", str(run_dir), sentence]) == 2
    assert match in error_line(capsys)


def test_bad_pairs_files(tmp_path, capsys):
    bad = tmp_path / "bad.tsv"
    bad.write_text("ka lo\tkax lox\nno tab on this line\n", encoding="utf-8")
    assert main(["translate", "train", str(bad), "-o", str(tmp_path / "r")]) == 2
    assert "line 2" in error_line(capsys)
    assert main(["translate", "train", str(tmp_path / "missing.tsv"), "-o", str(tmp_path / "r")]) == 2
    assert "not found" in error_line(capsys)
    empty = tmp_path / "empty.tsv"
    empty.write_text("")
    assert main(["translate", "train", str(empty), "-o", str(tmp_path / "r")]) == 2
    assert "empty" in error_line(capsys)
    assert (
        main(
            [
                "translate",
                "train",
                str(tiny_tsv(tmp_path / "t.tsv", 20)),
                "-o",
                str(tmp_path / "r"),
                "--max-len",
                "1",
            ]
        )
        == 2
    )
    assert "pairs left" in error_line(capsys)
    assert not (tmp_path / "r").exists()


def test_bad_runs_and_checkpoints(run_dir, tmp_path, capsys):
    assert main(["translate", "eval", str(tmp_path / "nowhere")]) == 2
    assert "not found" in error_line(capsys)
    broken = tmp_path / "broken"
    shutil.copytree(run_dir, broken)
    data = (broken / "model.pt").read_bytes()
    (broken / "model.pt").write_bytes(data[: len(data) // 2])
    assert main(["translate", str(broken), "ka lo"]) == 2
    assert "checkpoint" in error_line(capsys)
    (broken / "model.pt").write_bytes(b"not a checkpoint at all")
    assert main(["translate", "eval", str(broken)]) == 2
    assert "checkpoint" in error_line(capsys)
    assert main(["translate", str(run_dir), "ka lo", "--beam", "0"]) == 2
    assert "--beam" in error_line(capsys)


def test_bad_training_flags(tmp_path, capsys):
    pairs = tiny_tsv(tmp_path / "p.tsv", 20)
    assert main(["translate", "train", str(pairs), "-o", str(tmp_path / "r"), "--max-minutes", "0"]) == 2
    assert "--max-minutes" in error_line(capsys)
    with pytest.raises(SystemExit) as e:  # argparse: an unknown attention kind
        main(["translate", "train", str(pairs), "-o", str(tmp_path / "r"), "--attention", "cosine"])
    assert e.value.code == 2


@pytest.mark.parametrize(
    "argv",
    [
        ["translate", "--help"],
        ["translate", "train", "--help"],
        ["translate", "eval", "--help"],
        ["translate", "RUN", "--help"],
    ],
)
def test_help_teaches_every_form(argv, capsys):
    with pytest.raises(SystemExit) as e:
        main(argv)
    assert e.value.code == 0
    out = capsys.readouterr().out
    assert "usage:" in out and "--" in out
    if argv[1:] == ["--help"]:
        assert "--reverse" in out and "translate eval RUN" in out


def test_ctrl_c_keeps_the_best_model_and_still_evaluates(tmp_path, monkeypatch):
    import seqlab.translate.train as T
    from seqlab.translate.data import load_pair_data

    data = load_pair_data(tiny_tsv(tmp_path / "p.tsv", 200), max_len=6)
    calls = {"n": 0}
    real_collate = T.collate

    def interrupting_collate(encoded, index):
        calls["n"] += 1
        if calls["n"] == 9:  # mid-way through the second epoch (5 train batches + 1 valid per epoch)
            raise KeyboardInterrupt
        return real_collate(encoded, index)

    monkeypatch.setattr(T, "collate", interrupting_collate)
    cfg = T.TrainConfig(emb_size=16, hidden_size=32, batch_size=32, max_epochs=5, beam=1)
    m = T.train_translator(data, cfg, tmp_path / "run", show_progress=False)
    assert m["stop_reason"] == "interrupted" and m["epochs"] == 1 and m["best_epoch"] == 1
    assert json.loads((tmp_path / "run" / "metrics.json").read_text())["bleu"] == m["bleu"]
    loaded = Translator.load(tmp_path / "run")
    assert loaded.info["epoch"] == 1 and loaded.test_pairs == data.test


def test_unquoted_words_are_one_sentence(run_dir, capsys):
    assert main(["translate", str(run_dir), "ka", "lo", "mi"]) == 0
    unquoted = capsys.readouterr().out
    assert main(["translate", str(run_dir), "ka lo mi"]) == 0
    assert capsys.readouterr().out == unquoted


def test_heatmap_checks_its_axes(tmp_path):
    from seqlab.errors import SeqlabError
    from seqlab.translate.plot import save_attention_png

    attn = torch.softmax(torch.randn(3, 4), -1)
    save_attention_png(tmp_path / "ok.png", ["a", "b", "c", "d"], ["x", "y", "<eos>"], attn)
    assert (tmp_path / "ok.png").read_bytes()[:4] == b"\x89PNG"
    with pytest.raises(SeqlabError, match="expected"):
        save_attention_png(tmp_path / "bad.png", ["a", "b"], ["x", "y", "<eos>"], attn)
    with pytest.raises(SeqlabError, match=".png"):
        save_attention_png(tmp_path / "bad.jpg", ["a", "b", "c", "d"], ["x", "y", "<eos>"], attn)
    assert not (tmp_path / "bad.png").exists()


@pytest.mark.needs_data("eng-fra")
def test_pairs_argument_accepts_the_dataset_name(tmp_path):
    from seqlab.datasets import dataset_path, resolve_file

    expected = dataset_path("eng-fra")
    assert resolve_file("eng-fra") == expected
    local = tiny_tsv(tmp_path / "eng-fra", 5)  # an existing path wins over the name
    assert resolve_file(str(local)) == local


def test_resume_after_ctrl_c_equals_an_uninterrupted_run(tmp_path, monkeypatch, capsys):
    """Ctrl-C in epoch 3 keeps RUN/last.pt from epoch 2; --resume then finishes the run with the
    same weights, history and test BLEU as a run that was never stopped (fp32, max_epochs schedule)."""
    import seqlab.translate.train as T
    from seqlab.translate.run_files import read_model

    pairs = tiny_tsv(tmp_path / "p.tsv", 200)
    flags = [
        "--max-len",
        "6",
        "--emb-size",
        "16",
        "--hidden-size",
        "32",
        "--batch-size",
        "32",
        "--max-epochs",
        "4",
        "--max-minutes",
        "1",
        "--lr",
        "0.01",
        "--beam",
        "1",
        "--precision",
        "fp32",
        "--ema",
        "0.9",
        "--patience",
        "10",
    ]
    whole, cut = tmp_path / "whole", tmp_path / "cut"
    assert main(["translate", "train", str(pairs), "-o", str(whole), *flags]) == 0

    calls = {"n": 0}
    real_collate = T.collate

    def interrupting_collate(encoded, index):
        calls["n"] += 1
        if calls["n"] == 15:  # in the third epoch (5 train batches + 1 valid per epoch)
            raise KeyboardInterrupt
        return real_collate(encoded, index)

    monkeypatch.setattr(T, "collate", interrupting_collate)
    assert main(["translate", "train", str(pairs), "-o", str(cut), *flags]) == 0
    assert "--resume" in capsys.readouterr().err
    monkeypatch.setattr(T, "collate", real_collate)
    assert main(["translate", "train", str(pairs), "-o", str(cut), *flags]) == 2  # no silent overwrite
    assert "--resume" in error_line(capsys)
    assert main(["translate", "train", str(pairs), "-o", str(cut), "--resume"]) == 0

    a, b = (json.loads((d / "metrics.json").read_text()) for d in (whole, cut))
    assert b["epochs"] == 4 and b["stop_reason"] == a["stop_reason"]
    assert [h["val_loss"] for h in a["history"]] == [h["val_loss"] for h in b["history"]]
    assert a["bleu"] == b["bleu"] and a["best_epoch"] == b["best_epoch"]
    wa, wb = (read_model(d)["model"] for d in (whole, cut))
    assert all(torch.equal(wa[k], wb[k]) for k in wa)
    capsys.readouterr()
    assert main(["translate", "train", "x.tsv", "-o", str(tmp_path / "none"), "--resume"]) == 2
    assert "nothing to resume" in error_line(capsys)


def test_resume_refuses_other_data_and_other_settings(tmp_path, capsys):
    pairs = tiny_tsv(tmp_path / "p.tsv", 120)
    run = tmp_path / "run"
    flags = [
        "--max-len",
        "6",
        "--emb-size",
        "16",
        "--hidden-size",
        "32",
        "--max-epochs",
        "1",
        "--max-minutes",
        "1",
        "--beam",
        "1",
        "--precision",
        "fp32",
    ]
    assert main(["translate", "train", str(pairs), "-o", str(run), *flags]) == 0
    before = {p.name: p.stat().st_mtime_ns for p in run.iterdir()}
    other = tiny_tsv(tmp_path / "other.tsv", 120, seed=3)
    capsys.readouterr()
    assert main(["translate", "train", str(other), "-o", str(run), "--resume"]) == 2
    line = error_line(capsys)
    assert str(pairs.resolve()) in line and str(other.resolve()) in line
    assert main(["translate", "train", str(pairs), "-o", str(run), "--resume", "--hidden-size", "64"]) == 2
    assert "--hidden-size 64 differs from the run's 32" in error_line(capsys)
    pairs.write_text(pairs.read_text() + "ka lo\tkax lox\n", encoding="utf-8")  # same path, new content
    assert main(["translate", "train", str(pairs), "-o", str(run), "--resume"]) == 2
    assert "has changed since" in error_line(capsys)
    assert {p.name: p.stat().st_mtime_ns for p in run.iterdir()} == before  # nothing in the run changed


def test_ensemble_trains_members_within_the_budget_and_resumes(tmp_path, monkeypatch, capsys):
    import seqlab.translate.train as T

    pairs = tiny_tsv(tmp_path / "p.tsv", 200)
    run = tmp_path / "ens"
    flags = [
        "--max-len",
        "6",
        "--emb-size",
        "16",
        "--hidden-size",
        "32",
        "--batch-size",
        "32",
        "--max-epochs",
        "2",
        "--max-minutes",
        "1",
        "--lr",
        "0.01",
        "--beam",
        "2",
        "--ensemble",
        "2",
        "--precision",
        "fp32",
    ]
    calls = {"n": 0}
    real_collate = T.collate

    def interrupting_collate(encoded, index):
        calls["n"] += 1
        if calls["n"] == 15:  # first epoch of the second member (12 calls per member incl. validation)
            raise KeyboardInterrupt
        return real_collate(encoded, index)

    monkeypatch.setattr(T, "collate", interrupting_collate)
    assert main(["translate", "train", str(pairs), "-o", str(run), *flags]) == 0
    assert "--resume" in capsys.readouterr().err
    assert not (run / "model.pt").exists() and (run / "member1" / "metrics.json").exists()
    monkeypatch.setattr(T, "collate", real_collate)
    first = json.loads((run / "member1" / "metrics.json").read_text())
    assert main(["translate", "train", str(pairs), "-o", str(run), "--resume"]) == 0
    m = json.loads((run / "metrics.json").read_text())
    assert m["stop_reason"] == "ensemble of 2" and len(m["members"]) == 2
    assert m["members"][0] == {k: first[k] for k in m["members"][0]}  # member 1 was kept, not retrained
    assert m["seconds"] < 60 + 5 and {"val_loss", "bleu", "seconds"} <= set(m)
    tr = Translator.load(run)
    assert len(tr.model.members) == 2
    assert tr.bleu(tr.test_pairs, beam=2)[0] == pytest.approx(m["bleu"], abs=0.006)
    assert main(["translate", str(run), "ka lo", "--plot", str(tmp_path / "a.png")]) == 0
    assert (tmp_path / "a.png").stat().st_size > 0


def test_unseen_inflections_back_off_to_known_words_unless_disabled(tmp_path, capsys, monkeypatch):
    rng = random.Random(0)
    words = ["kalamo", "peroni", "sativa", "minuto"]
    lines = []
    for _ in range(120):
        s = [rng.choice(words) for _ in range(rng.randint(2, 4))]
        lines.append(" ".join(s) + "\t" + " ".join(w[:3] + "x" for w in s))
    (tmp_path / "p.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    run = tmp_path / "run"
    assert main(["translate", "train", str(tmp_path / "p.tsv"), "-o", str(run), *SMALL]) == 0
    capsys.readouterr()
    assert main(["translate", str(run), "kalamos peroni"]) == 0
    backed = capsys.readouterr()
    assert "kalamos -> kalamo" in backed.err and "<unk>" not in backed.err
    assert main(["translate", str(run), "kalamo peroni"]) == 0
    assert capsys.readouterr().out == backed.out  # read exactly as the known form
    assert main(["translate", str(run), "kalamos peroni", "--no-backoff"]) == 0
    assert "read as <unk>): kalamos" in capsys.readouterr().err
    assert main(["translate", "eval", str(run), "--no-backoff", "--samples", "0"]) == 0
    assert capsys.readouterr().out.startswith("BLEU ")  # every test word was seen: no note
    load = Translator.load

    def with_unseen(path, device="cpu"):
        tr = load(path, device)
        tr.test_pairs = [(["kalamos", "peroni"], ["kalx", "perx"]), (["zzzzz", "sativa"], ["zzz", "satx"])]
        return tr

    monkeypatch.setattr(Translator, "load", with_unseen)
    assert main(["translate", "eval", str(run), "--samples", "0"]) == 0
    assert (
        "2 unseen source words in the test split: 1 read as a known word (backoff on), 1 as <unk>"
        in capsys.readouterr().err
    )


def test_time_budgeted_resume_continues_the_clock(tmp_path):
    """docs/translate.md: with only a time budget, a resumed run goes on from the elapsed time it saved
    (the schedule and the budget continue; the run is not repeated bit for bit)."""
    from seqlab.checkpoint import load_checkpoint

    pairs = tiny_tsv(tmp_path / "p.tsv", 200)
    run = tmp_path / "run"
    flags = [
        "--max-len",
        "6",
        "--emb-size",
        "16",
        "--hidden-size",
        "32",
        "--batch-size",
        "32",
        "--max-minutes",
        "0.05",
        "--lr",
        "0.01",
        "--beam",
        "1",
        "--precision",
        "fp32",
        "--patience",
        "100",
    ]
    assert main(["translate", "train", str(pairs), "-o", str(run), *flags]) == 0
    first = load_checkpoint(run / "last.pt")["progress"]
    assert json.loads((run / "metrics.json").read_text())["stop_reason"] == "time"
    assert main(["translate", "train", str(pairs), "-o", str(run), "--resume", "--max-minutes", "0.1"]) == 0
    second = load_checkpoint(run / "last.pt")["progress"]
    assert second["epoch"] > first["epoch"] and second["step"] > first["step"]
    assert first["elapsed"] < second["elapsed"] <= 0.1 * 60 + 5  # the clock went on from the saved time
    resumed_epoch = second["history"][len(first["history"])]
    assert resumed_epoch["seconds"] > first["elapsed"]  # its clock starts at the saved time
