"""`--device auto` (the default) and `--preset cpu|gpu` (issue 27): on a CPU-only machine auto is the CPU
bit for bit, the resolved device and preset are recorded, the cpu preset is today's defaults, the gpu
preset changes exactly its documented fields, and a setting given explicitly beats the preset."""

import hashlib
import json
import random
from dataclasses import asdict

import numpy as np
import pytest
import torch

from seqlab.charlm.config import MODE_DEFAULTS, LMTrainConfig
from seqlab.cli import main
from seqlab.errors import ParameterError
from seqlab.presets import GPU_PRESET, apply_preset, choose_preset
from seqlab.translate.config import TrainConfig

needs_cpu_only = pytest.mark.skipif(torch.cuda.is_available(), reason="auto is cuda on this machine")
TEXT = "To be, or not to be, that is the question.\n" * 60
SMALL = ["--layers", "1", "--hidden", "24", "--embed", "8", "--batch-size", "4", "--eval-every", "10"]


@pytest.fixture(autouse=True)
def one_thread():
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


def lm_train(capsys, tmp_path, name, *flags):
    text = tmp_path / "play.txt"
    text.write_text(TEXT)
    run = tmp_path / name
    argv = ["lm", "train", str(text), "-o", str(run), "--max-steps", "12", "--seq-len", "16", *SMALL, *flags]
    assert main(argv) == 0
    return run, capsys.readouterr().err


def weights(run):
    return torch.load(run / "model.pt", map_location="cpu", weights_only=True)["model"]


# ------------------------------------------------------------------------------- --device auto
@needs_cpu_only
def test_auto_is_the_cpu_bit_for_bit_and_recorded_resolved(tmp_path, capsys):
    auto, err = lm_train(capsys, tmp_path, "auto")
    cpu, _ = lm_train(capsys, tmp_path, "cpu", "--device", "cpu")
    a, c = weights(auto), weights(cpu)
    assert a.keys() == c.keys() and all(torch.equal(a[k], c[k]) for k in a)
    assert err.splitlines()[0] == "device: cpu (preset cpu)"
    for run in (auto, cpu):
        config = json.loads((run / "config.json").read_text())
        metrics = json.loads((run / "metrics.json").read_text())
        assert config["device"] == metrics["device"] == "cpu"
        assert config["preset"] == metrics["preset"] == "cpu"
    # sampling with no --device runs on the CPU too and says so on stderr, stdout stays the text
    assert main(["lm", "sample", str(auto), "--length", "20", "--seed", "1"]) == 0
    out, err = capsys.readouterr()
    assert err == "device: cpu\n" and out.strip()


def test_every_neural_command_defaults_to_auto_and_says_what_it_means(capsys):
    for argv in (
        ["lm", "train"],
        ["lm", "sample"],
        ["lm", "eval"],
        ["names"],
        ["translate", "train"],
        ["translate", "eval"],
        ["serve"],
    ):
        with pytest.raises(SystemExit):
            main([*argv, "--help"])
        text = " ".join(capsys.readouterr().out.split())
        assert "auto = cuda when torch sees a GPU, else cpu" in text, argv
        assert "(default: auto)" in text, argv
        assert ("--preset" in text) == (argv in (["lm", "train"], ["names"], ["translate", "train"])), argv


def test_the_python_api_defaults_to_auto():
    import inspect

    from seqlab.charlm.language_model import CharLM
    from seqlab.charlm.names import generate_names
    from seqlab.translate.translator import Translator

    assert LMTrainConfig().device == "auto"
    for fn in (CharLM.load, generate_names, Translator.train, Translator.load):
        assert inspect.signature(fn).parameters["device"].default == "auto", fn


@needs_cpu_only
def test_distributed_init_resolves_auto_outside_torchrun():
    from seqlab import distributed

    assert distributed.init("auto")[1] == "cpu"


# ------------------------------------------------------------------------------- presets
def test_the_preset_follows_the_device_unless_given():
    assert choose_preset(None, "cpu") == "cpu"
    assert choose_preset(None, torch.device("cuda")) == "gpu"
    assert choose_preset(None, "cuda:1") == "gpu"
    assert choose_preset("cpu", "cuda") == "cpu" and choose_preset("gpu", "cpu") == "gpu"
    with pytest.raises(ParameterError, match="preset"):
        choose_preset("tpu", "cpu")
    with pytest.raises(ParameterError, match="preset"):
        LMTrainConfig(preset="big").validate()
    with pytest.raises(ParameterError, match="preset"):
        TrainConfig(preset="big").validate()


@needs_cpu_only
@pytest.mark.parametrize("mode", ["stream", "lines"])
def test_lm_cpu_preset_is_todays_defaults_and_gpu_changes_exactly_its_fields(mode):
    auto = asdict(LMTrainConfig(mode=mode).resolved())
    cpu = asdict(LMTrainConfig(mode=mode, preset="cpu").resolved())
    gpu = asdict(LMTrainConfig(mode=mode, preset="gpu").resolved())
    assert auto == cpu and cpu["preset"] == "cpu" and gpu["preset"] == "gpu"
    assert {k: cpu[k] for k in MODE_DEFAULTS[mode]} == MODE_DEFAULTS[mode]
    changed = {k for k in cpu if cpu[k] != gpu[k]}
    assert changed == set(GPU_PRESET[f"lm.{mode}"]) | {"preset"}
    assert {k: gpu[k] for k in GPU_PRESET[f"lm.{mode}"]} == GPU_PRESET[f"lm.{mode}"]


def test_lm_issue_27_values_for_the_gpu_stream_preset():
    # docs/scaling.md: 3 x 1024, dropout 0.5, batch 128 (one H200 run, provisional)
    assert GPU_PRESET["lm.stream"] == dict(layers=3, hidden=1024, dropout=0.5, batch_size=128)


@needs_cpu_only
def test_an_explicit_lm_setting_beats_the_preset():
    c = LMTrainConfig(preset="gpu", hidden=64, dropout=0.2).resolved()  # 0.2 is also the cpu default
    assert (c.hidden, c.dropout, c.layers, c.batch_size) == (64, 0.2, 3, 128)


@needs_cpu_only
def test_lm_cli_preset_gpu_with_explicit_shape_flags(tmp_path, capsys):
    run, err = lm_train(capsys, tmp_path, "gpu", "--preset", "gpu")
    assert err.splitlines()[0] == "device: cpu (preset gpu)"
    config = json.loads((run / "config.json").read_text())
    assert (config["layers"], config["hidden"], config["batch_size"]) == (1, 24, 4)  # given: kept
    assert config["dropout"] == GPU_PRESET["lm.stream"]["dropout"]  # not given: the preset's
    assert config["preset"] == json.loads((run / "metrics.json").read_text())["preset"] == "gpu"


def test_translate_presets_on_the_config():
    cpu = apply_preset(TrainConfig(), "translate", "cpu")
    assert asdict(cpu) == {**asdict(TrainConfig()), "preset": "cpu"}
    gpu = apply_preset(TrainConfig(), "translate", "cuda")
    changed = {k for k, v in asdict(gpu).items() if asdict(cpu)[k] != v}
    assert changed == set(GPU_PRESET["translate"]) | {"preset"}
    # given explicitly: kept, even when equal to the cpu default (the CLI knows what was typed)
    kept = apply_preset(TrainConfig(preset="gpu", hidden_size=256), "translate", "cpu", given={"hidden_size"})
    assert kept.hidden_size == 256 and kept.emb_size == GPU_PRESET["translate"]["emb_size"]
    # a Python caller's config: the fields that differ from the defaults count as given
    mine = apply_preset(TrainConfig(preset="gpu", hidden_size=64), "translate", "cpu")
    assert mine.hidden_size == 64 and mine.batch_size == GPU_PRESET["translate"]["batch_size"]


def _pairs(path, n=60):
    rng = random.Random(0)
    words = "ka lo mi nu pe".split()
    lines = []
    for _ in range(n):
        s = [rng.choice(words) for _ in range(rng.randint(2, 4))]
        lines.append(" ".join(s) + "\t" + " ".join(w + "x" for w in s))
    path.write_text("\n".join(lines) + "\n")
    return path


@needs_cpu_only
def test_translate_cli_records_device_and_preset_and_explicit_flags_win(tmp_path, capsys):
    pairs = _pairs(tmp_path / "p.tsv")
    run = tmp_path / "run"
    quick = ["--max-epochs", "1", "--beam", "1", "--emb-size", "16", "--select", "loss"]
    argv = ["translate", "train", str(pairs), "-o", str(run), *quick, "--preset", "gpu"]
    assert main([*argv, "--hidden-size", "256"]) == 0  # 256 is the cpu default, given on purpose
    err = capsys.readouterr().err
    assert "device: cpu (preset gpu)" in err.splitlines()
    m = json.loads((run / "metrics.json").read_text())
    assert m["device"] == "cpu" and m["preset"] == "gpu" and m["train_config"]["preset"] == "gpu"
    tc = m["train_config"]
    assert tc["hidden_size"] == 256 and tc["emb_size"] == 16  # given: kept
    assert tc["batch_size"] == GPU_PRESET["translate"]["batch_size"]  # not given: the preset's
    assert tc["dropout"] == GPU_PRESET["translate"]["dropout"]


def test_names_cache_key_of_the_cpu_preset_is_unchanged(tmp_path):
    from seqlab.charlm.names import NAMES_MODEL_VERSION, NamesSource

    src = NamesSource(("ann", "bob"), None, None, None, frozenset(), "2 lines")
    what = "ann\nbob" + f"|False|{2.0!r}"  # the key from before presets, computed by hand
    key = hashlib.sha256(f"{what}|{NAMES_MODEL_VERSION}".encode()).hexdigest()[:16]
    old = tmp_path / f"names-{key}"
    assert src.cache_entry(2.0, tmp_path) == src.cache_entry(2.0, tmp_path, "cpu") == old
    assert src.cache_entry(2.0, tmp_path, "gpu") != src.cache_entry(2.0, tmp_path)


def test_a_bad_preset_fails_before_names_reads_or_trains(tmp_path, capsys):
    from seqlab.charlm.names import generate_names

    with pytest.raises(ParameterError, match="preset"):
        generate_names(3, data=tmp_path / "missing.txt", preset="huge", cache_dir=tmp_path)


def test_classify_defaults_to_auto_and_records_the_device_used(tmp_path, capsys):
    """classify train and table take --device auto by default (the same help as every trainer),
    the library too, and a run records the device it trained on, resolved."""
    import inspect

    from seqlab.classify.estimators import CNNClassifier, make_estimator
    from seqlab.classify.run import train_classifier
    from seqlab.classify.table import TableConfig

    for argv in (["classify", "train"], ["classify", "table"]):
        with pytest.raises(SystemExit):
            main([*argv, "--help"])
        text = " ".join(capsys.readouterr().out.split())
        assert "auto = cuda when torch sees a GPU, else cpu" in text and "(default: auto)" in text, argv
    for fn in (train_classifier, make_estimator):
        assert inspect.signature(fn).parameters["device"].default == "auto", fn
    assert CNNClassifier().device == "auto" and TableConfig().device == "auto"
    rng = np.random.default_rng(0)
    lines = [f"{c}\t" + " ".join(f"w{c}{j}" for j in rng.integers(0, 5, 6)) for c in rng.integers(0, 2, 40)]
    data = tmp_path / "tiny.tsv"
    data.write_text("\n".join(lines) + "\n")
    run = tmp_path / "run"
    argv = [
        "classify",
        "train",
        str(data),
        "-o",
        str(run),
        "--model",
        "cnn-rand",
        "--epochs",
        "1",
        "--folds",
        "2",
    ]
    assert main(argv) == 0
    out = capsys.readouterr().out
    metrics = json.loads((run / "metrics.json").read_text())
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert metrics["device"] == expected and f"on {expected})" in out
