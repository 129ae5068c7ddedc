"""`seqlab classify train|predict|table` on tiny generated data, and its error lines."""

import json
import re

import numpy as np
import pytest

from seqlab.cli import main


def write_dataset(path, n=120, sep="\t", seed=0):
    rng = np.random.default_rng(seed)
    filler = [f"w{i}" for i in range(25)]
    cues = {"good": ["great", "superb"], "bad": ["awful", "dull"]}
    lines = []
    for i in range(n):
        label = "good" if i % 2 else "bad"
        words = list(rng.choice(filler, size=rng.integers(3, 9))) + [str(rng.choice(cues[label]))]
        rng.shuffle(words)
        lines.append(f"{label}{sep}{' '.join(words)}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def write_glove(path, dim=6, bad_row=False):
    rng = np.random.default_rng(0)
    words = ["great", "superb", "awful", "dull"] + [f"w{i}" for i in range(25)]
    rows = []
    for j, w in enumerate(words):
        d = dim - 1 if bad_row and j == 3 else dim
        rows.append(w + " " + " ".join(f"{x:.4f}" for x in rng.normal(size=d)))
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_help_teaches(capsys):
    for cmd in (
        ["classify", "train", "--help"],
        ["classify", "table", "--help"],
        ["classify", "predict", "--help"],
    ):
        with pytest.raises(SystemExit) as e:
            main(cmd)
        assert e.value.code == 0
    out = re.sub(r"-\s+", "-", capsys.readouterr().out)  # argparse may wrap at a hyphen
    assert "cnn-multichannel" in out and "glove-6b-50d" in out and "default" in out


def test_train_then_predict_cnn(tmp_path, capsys):
    data = write_dataset(tmp_path / "toy.tsv", n=300)  # the label is the cue word: learnable exactly
    run = tmp_path / "run"
    rc = main(
        [
            "classify",
            "train",
            str(data),
            "-o",
            str(run),
            "--model",
            "cnn-rand",
            "--folds",
            "2",
            "--epochs",
            "4",
            "--seed",
            "1",
        ]
    )
    assert rc == 0
    m = json.loads((run / "metrics.json").read_text())
    assert {"accuracy", "std", "folds", "seconds"} <= set(m)
    assert m["folds"] == 2 and len(m["fold_accuracies"]) == 2
    assert min(m["fold_accuracies"]) > 0.9  # chance is 0.5
    assert "best fold" in m["checkpoint"]
    capsys.readouterr()
    rc = main(["classify", "predict", str(run), "what a great superb film", "awful , dull"])
    assert rc == 0
    lines = capsys.readouterr().out.strip().split("\n")
    assert len(lines) == 2
    label, probs, text = lines[0].split("\t")
    assert label == "good" and text == "what a great superb film"
    p = dict(kv.split("=") for kv in probs.split())
    assert set(p) == {"good", "bad"} and abs(sum(map(float, p.values())) - 1) < 0.01
    assert float(p["good"]) > 0.5
    assert lines[1].split("\t")[0] == "bad"


def test_train_static_with_user_vectors_and_mnb_on_csv(tmp_path, capsys):
    data = write_dataset(tmp_path / "toy.tsv")
    vec = write_glove(tmp_path / "vec.txt")
    rc = main(
        [
            "classify",
            "train",
            str(data),
            "-o",
            str(tmp_path / "st"),
            "--model",
            "cnn-static",
            "--vectors",
            str(vec),
            "--folds",
            "2",
            "--epochs",
            "2",
        ]
    )
    assert rc == 0
    assert "GoogleNews" in " ".join(json.loads((tmp_path / "st" / "metrics.json").read_text())["notes"])
    csv = tmp_path / "toy.csv"
    csv.write_text(
        "label,text\n" + "\n".join(ln.replace("\t", ",", 1) for ln in data.read_text().splitlines()) + "\n",
        encoding="utf-8",
    )
    rc = main(["classify", "train", str(csv), "-o", str(tmp_path / "mnb"), "--model", "mnb", "--folds", "3"])
    assert rc == 0
    assert json.loads((tmp_path / "mnb" / "metrics.json").read_text())["accuracy"] > 0.9
    capsys.readouterr()
    assert main(["classify", "predict", str(tmp_path / "mnb"), "great superb"]) == 0
    assert capsys.readouterr().out.startswith("good\t")


@pytest.mark.needs_data("sentence_classification")
def test_table_caches_folds_and_resumes(tmp_path, capsys):
    table = tmp_path / "T.md"
    args = [
        "classify",
        "table",
        "-o",
        str(table),
        "--datasets",
        "cr",
        "--models",
        "mnb",
        "nbsvm",
        "--folds",
        "2",
    ]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "total time" in out and "MNB (Wang and Manning, 2012)" in out
    cache = tmp_path / "T_cache"
    files = sorted(cache.glob("cr__mnb__*.json"))
    assert len(files) == 2 and len(list(cache.glob("cr__nbsvm__*.json"))) == 2
    # a second run reads the cache: doctor one fold and see it in the table
    rec = json.loads(files[0].read_text())
    rec["accuracy"], rec2 = 0.5, json.loads(files[1].read_text())
    files[0].write_text(json.dumps(rec))
    assert main(args) == 0
    expected = 100 * (0.5 + rec2["accuracy"]) / 2
    assert f"{expected:.1f} / 80.0" in table.read_text()
    assert json.loads(table.with_suffix(".json").read_text())["cells"][0]["folds_done"] == 2
    assert "trained on a GPU" not in table.read_text()
    # a fold that says it was trained on a GPU is named in the notes
    rec["device"] = "cuda"
    files[0].write_text(json.dumps(rec))
    assert main(args + ["--cached-only"]) == 0
    assert "CR mnb (1/2)" in table.read_text().split("Folds trained on a GPU")[1]


@pytest.mark.parametrize(
    "make_args,match",
    [
        (
            lambda d: ["classify", "train", "imdb", "-o", str(d / "r"), "--model", "cnn-rand"],
            "unknown dataset",
        ),
        (lambda d: ["classify", "train", "mr", "-o", str(d / "r"), "--model", "svm"], "unknown model"),
        (
            lambda d: ["classify", "train", str(d / "empty.tsv"), "-o", str(d / "r"), "--model", "mnb"],
            "empty",
        ),
        (
            lambda d: ["classify", "train", str(d / "nolabel.tsv"), "-o", str(d / "r"), "--model", "mnb"],
            "without a label",
        ),
        (
            lambda d: ["classify", "train", str(d / "one.tsv"), "-o", str(d / "r"), "--model", "mnb"],
            "only one class",
        ),
        (
            lambda d: [
                "classify",
                "train",
                str(d / "toy.tsv"),
                "-o",
                str(d / "r"),
                "--model",
                "cnn-static",
                "--vectors",
                str(d / "badvec.txt"),
            ],
            "dimension|values|expected",
        ),
        (lambda d: ["classify", "predict", str(d / "nothing"), "hello"], "not found"),
        (lambda d: ["classify", "table", "-o", str(d / "T.md"), "--models", "cnn-huge"], "unknown model"),
        (lambda d: ["classify", "table", "-o", str(d / "T.md"), "--datasets", "imdb"], "unknown dataset"),
        (
            lambda d: [
                "classify",
                "train",
                str(d / "toy.tsv"),
                "-o",
                str(d / "r"),
                "--model",
                "cnn-rand",
                "--conv",
                "full",
            ],
            "unknown convolution 'full'; use narrow or wide",
        ),
        (
            lambda d: [
                "classify",
                "train",
                "sst2",
                "-o",
                str(d / "r"),
                "--model",
                "cnn-rand",
                "--sst-train",
                "trees",
            ],
            "unknown SST training set 'trees'; use phrases or sentences",
        ),
        (
            lambda d: ["classify", "table", "-o", str(d / "T.md"), "--models", "dcnn:wide"],
            "unknown DCNN recipe 'wide'",
        ),
        (
            lambda d: ["classify", "table", "-o", str(d / "T.md"), "--models", "gru:wide"],
            "only Kim's CNN rows",
        ),
        (
            lambda d: ["classify", "train", "trec", "-o", str(d / "r"), "--model", "dcnn", "--recipe", "b8"],
            "unknown DCNN recipe 'b8'; use b4 or b50",
        ),
        (
            lambda d: ["classify", "table", "-o", str(d / "T.md"), "--sst-train", "all"],
            "unknown SST training set",
        ),
        (
            lambda d: [
                "classify",
                "train",
                str(d / "toy.tsv"),
                "-o",
                str(d / "r"),
                "--model",
                "cnn-rand",
                "--dev-checks",
                "0",
            ],
            "--dev-checks must be at least 1",
        ),
        (
            lambda d: ["classify", "table", "-o", str(d / "T.md"), "--dev-checks", "-2"],
            "--dev-checks must be at least 1",
        ),
    ],
)
def test_bad_input_gives_one_error_line(tmp_path, capsys, make_args, match):
    import re

    (tmp_path / "empty.tsv").write_text("")
    (tmp_path / "nolabel.tsv").write_text("good\tnice\njust text without tab\n")
    (tmp_path / "one.tsv").write_text("good\tnice\ngood\tfine\n")
    write_dataset(tmp_path / "toy.tsv", n=40)
    write_glove(tmp_path / "badvec.txt", bad_row=True)
    rc = main(make_args(tmp_path))
    err = capsys.readouterr().err.strip()
    assert rc == 2
    assert err.startswith("seqlab: error:") and "\n" not in err and "Traceback" not in err
    assert re.search(match, err), err
    assert not (tmp_path / "r" / "metrics.json").exists()


def write_tiny_sst(root, n_train=60, seed=0):
    """A data folder with a tiny treebank (sst_trees/train.txt) and the stsa.* files its roots give:
    each sentence is filler words then a cue word; the cue's node and the root carry the label."""
    from seqlab.classify.sst_trees import parse_tree, sentence_examples

    rng = np.random.default_rng(seed)
    cues = {0: ["awful", "dull"], 1: ["bad"], 3: ["good"], 4: ["great", "superb"]}

    def tree(label):
        words = [f"w{i}" for i in rng.choice(12, size=rng.integers(2, 5), replace=False)]
        filler = f"(2 {words[-1]})"
        for w in reversed(words[:-1]):
            filler = f"(2 (2 {w}) {filler})"
        return f"({label} {filler} ({label} {rng.choice(cues[label])}))"

    folder = root / "sentence_classification"
    (folder / "sst_trees").mkdir(parents=True)
    for part, n in (("train", n_train), ("dev", 20), ("test", 20)):
        lines = [tree([0, 1, 3, 4][i % 4]) for i in range(n)]
        if part == "train":
            (folder / "sst_trees" / "train.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
        trees = [parse_tree(t) for t in lines]
        for task, name in (("sst1", "fine"), ("sst2", "binary")):
            x, y = sentence_examples(trees, task)
            (folder / f"stsa.{name}.{part}").write_text(
                "".join(f"{b} {a}\n" for a, b in zip(x, y)), encoding="utf-8"
            )
    return folder


def test_sst_trains_on_phrases_by_default_and_on_sentences_when_asked(tmp_path, monkeypatch, capsys):
    from seqlab.classify.data import load_dataset

    write_tiny_sst(tmp_path, n_train=200)
    monkeypatch.setenv("SEQLAB_DATA", str(tmp_path))
    n_phrases = len(load_dataset("sst2").train[0])
    assert 195 < n_phrases <= 206  # distinct roots + six cue words (fillers: neutral)
    for model, extra, n in (
        ("dcnn", [], n_phrases),
        ("cnn-rand", ["--sst-train", "sentences", "--conv", "wide", "--dev-checks", "3"], 200),
    ):
        run = tmp_path / model
        rc = main(["classify", "train", "sst2", "-o", str(run), "--model", model, "--epochs", "5", *extra])
        assert rc == 0
        m = json.loads((run / "metrics.json").read_text())
        assert {"accuracy", "std", "folds", "seconds", "train_examples"} <= set(m)
        assert m["train_examples"] == n and m["folds"] == 1 and m["accuracy"] > 0.8
        assert m["sst_train"] == ("phrases" if not extra else "sentences")
        assert m["dev_checks"] == (3 if extra else 1)
        assert m["recipe"] == (None if extra else "b50")
        assert m["conv"] == (None if model == "dcnn" else "wide")
    assert f"{n_phrases} training examples" in capsys.readouterr().out


def test_table_cache_keys_see_model_conv_and_sst_training_set(tmp_path):
    from seqlab.classify.table import TableConfig, cache_file

    base = TableConfig()
    names = {
        cache_file(tmp_path, TableConfig(sst_train=sst), d, row, 0, False).name
        for sst in ("phrases", "sentences")
        for d in ("sst1", "trec")
        for row in ("cnn-rand", "cnn-rand:wide", "cnn-rand:narrow", "dcnn", "cnn-static")
    }
    # cnn-rand and cnn-rand:narrow are the same row (4 distinct rows); SST-1 differs by training
    # set, TREC has none: 4 * 2 + 4 names
    assert len(names) == 12
    assert (
        cache_file(tmp_path, base, "sst2", "cnn-rand:wide", 0, False).name
        == "sst2__cnn-rand__wide__phrases__e25__s0__test.json"
    )
    # the DCNN's recipes: b50 (default) keeps the key of the cells computed before b4 was tried;
    # b4 has its own
    assert cache_file(tmp_path, base, "mr", "dcnn:b50", 2, True).name == "mr__dcnn__e25__s0__fold3of10.json"
    assert cache_file(tmp_path, base, "mr", "dcnn", 2, True).name == "mr__dcnn__e25__s0__fold3of10.json"
    assert (
        cache_file(tmp_path, base, "mr", "dcnn:b4", 2, True).name == "mr__dcnn__b4__e25__s0__fold3of10.json"
    )
    # the pretrained rows since issue 13's fix (rescaled vectors, trained rows widened to 300)
    assert (
        cache_file(tmp_path, base, "mr", "cnn-non-static", 0, True).name
        == "mr__cnn-non-static__narrow__glove-6b-50d__std0.144__w300__e25__s0__fold1of10.json"
    )
    assert "__std0.144__e25" in cache_file(tmp_path, base, "mr", "cnn-static", 0, True).name
    # more than one dev check per epoch is a different protocol: its own key (neural rows only)
    dc = TableConfig(dev_checks=4)
    assert (
        cache_file(tmp_path, dc, "sst1", "dcnn:b4", 0, False).name
        == "sst1__dcnn__b4__phrases__e25__dc4__s0__test.json"
    )
    assert (
        cache_file(tmp_path, dc, "mr", "nbsvm", 0, True).name
        == cache_file(tmp_path, base, "mr", "nbsvm", 0, True).name
    )


def test_a_malformed_tree_file_is_one_error_line(tmp_path, monkeypatch, cli_error):
    folder = write_tiny_sst(tmp_path)
    trees = folder / "sst_trees" / "train.txt"
    lines = trees.read_text().split("\n")
    lines[6] = lines[6][:-1]  # drop the last ')' of line 7
    trees.write_text("\n".join(lines))
    monkeypatch.setenv("SEQLAB_DATA", str(tmp_path))
    err = cli_error(
        "classify", "train", "sst1", "-o", tmp_path / "r", "--model", "cnn-rand", match="train.txt:7"
    )
    assert "unbalanced brackets" in err
    assert not (tmp_path / "r" / "metrics.json").exists()


def test_trec_cells_since_issue_25_have_their_own_cache_key(tmp_path):
    """TREC's texts changed (no backslash before "?"): its cells must not be read from before."""
    from seqlab.classify.table import TableConfig, cache_file

    name = cache_file(tmp_path, TableConfig(), "trec", "cnn-rand", 0, False).name
    assert name == "trec__cnn-rand__narrow__data2__e25__s0__test.json"
    assert "__data" not in cache_file(tmp_path, TableConfig(), "mr", "cnn-rand", 0, True).name


@pytest.fixture
def no_work(monkeypatch):
    """Loading data or training fails the test: arguments must be refused before."""

    def work(*a, **k):
        raise AssertionError("work started before the arguments were checked")

    monkeypatch.setattr("seqlab.classify.run.load_any", work)
    monkeypatch.setattr("seqlab.classify.table.load_dataset", work)
    monkeypatch.setattr("seqlab.distributed.launch", work)


TRAIN_ARGS = ["classify", "train", "trec", "--model", "cnn-rand"]
TABLE_ARGS = ["classify", "table", "--datasets", "trec", "--models", "mnb", "cnn-rand"]
NO_GPU = pytest.mark.skipif(__import__("torch").cuda.is_available(), reason="this machine has a GPU")


@pytest.mark.parametrize(
    "extra, match",
    [
        (TRAIN_ARGS + ["--epochs", "0"], "--epochs must be at least 1, got 0"),
        (TRAIN_ARGS + ["--folds", "1"], "--folds must be at least 2, got 1"),
        (["classify", "train", "trec", "--model", "svm"], "unknown model 'svm'"),
        (TRAIN_ARGS + ["--seed", "-1"], "--seed must be at least 0"),
        (TRAIN_ARGS + ["--threads", "-2"], "--threads must be at least 0"),
        (TRAIN_ARGS + ["--nproc", "2", "--dev-checks", "0"], "--dev-checks must be at least 1"),
        (
            ["classify", "train", "trec", "--model", "cnn-static", "--vectors", "{d}/missing.txt"],
            "missing.txt",
        ),
        (["classify", "train", "trec", "--model", "mnb", "-o", "{d}/afile"], "afile is a file, not a folder"),
        pytest.param(TRAIN_ARGS + ["--device", "cuda"], "no CUDA GPU", marks=NO_GPU),
        pytest.param(TABLE_ARGS + ["--device", "cuda"], "no CUDA GPU", marks=NO_GPU),
        (TABLE_ARGS + ["--seed", "-1"], "--seed must be at least 0"),
        (TABLE_ARGS + ["--threads", "-1"], "--threads must be at least 0"),  # TableConfig.num_threads
        (TABLE_ARGS + ["-o", "{d}"], "is a folder, not a file"),
        (TABLE_ARGS + ["--cache", "{d}/afile"], "afile is a file, not a folder"),
    ],
)
def test_every_argument_is_checked_before_any_work(tmp_path, no_work, cli_error, extra, match):
    (tmp_path / "afile").write_text("x")
    args = [a.format(d=tmp_path) for a in extra]
    if "-o" not in args:
        args += ["-o", str(tmp_path / ("T.md" if args[1] == "table" else "run"))]
    cli_error(*args, match=match)
    assert not (tmp_path / "run").exists() and not (tmp_path / "T_cache").exists()


def test_result_lines_of_baselines_and_the_help_say_only_what_holds(tmp_path, monkeypatch, capsys):
    write_tiny_sst(tmp_path)
    monkeypatch.setenv("SEQLAB_DATA", str(tmp_path))
    for model in ("nbsvm", "mnb"):  # a test split, and models that use no dev set
        assert main(["classify", "train", "sst2", "-o", str(tmp_path / model), "--model", model]) == 0
        line = capsys.readouterr().out
        assert "±" not in line and "dev:" not in line and "(the model trained on the training split)" in line
    data = write_dataset(tmp_path / "toy.tsv", n=40)
    assert (
        main(["classify", "train", str(data), "-o", str(tmp_path / "cv"), "--model", "mnb", "--folds", "2"])
        == 0
    )
    assert " ± " in capsys.readouterr().out  # folds do have a spread
    for sub in ("train", "table", "predict"):
        with pytest.raises(SystemExit):
            main(["classify", sub, "--help"])
        text = capsys.readouterr().out
        options = re.split(r"\n  (?=-)", text.split("options:")[1])
        assert len(options) > 1
        for option in options:
            said = " ".join(option.split()).lower()
            assert said.count("default") <= 1 and "(default: none)" not in said, option
