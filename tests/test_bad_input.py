"""Bad input across the commands (issue 12): each case ends in one clear line on stderr and a
non-zero exit, with nothing half-written left behind, or in a documented behaviour tested here.

  truncated .gz corpus          lm train / lm eval / embed train (3 methods) / translate train: one line
  characters a model never saw  lm eval (stream and lines models): one line naming them
  pairs file with BOM, CRLF     translate: read exactly as the plain file (documented in read_text)
  empty --prime                 as if not given (--help says so): a stream model starts at a new
                                line, a lines model's lines get no prefix
  one 10 MB line                lm train stream: trains (a stream needs no newlines); lm train/eval
                                lines: one line (MAX_LINE_CHARS); embed train: trains (sentences cut at
                                MAX_SENTENCE tokens); translate train: one line (no pair fits --max-len)
"""

import gzip
import json

import numpy as np
import pytest

TINY_LM = [
    "--layers",
    "1",
    "--hidden",
    "16",
    "--embed",
    "4",
    "--batch-size",
    "4",
    "--eval-every",
    "5",
    "--precision",
    "fp32",
]


def truncated_gzip(path, text):
    """`text` gzip-compressed, cut in the middle of the compressed stream."""
    data = gzip.compress(text.encode())
    path.write_bytes(data[: len(data) // 2])
    return path


def random_text(n, alphabet="abcdefgh \n", seed=0):
    rng = np.random.default_rng(seed)
    return "".join(rng.choice(list(alphabet), size=n))


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """A tiny stream run and a tiny lines run."""
    from seqlab.cli import main

    tmp = tmp_path_factory.mktemp("runs")
    (tmp / "play.txt").write_text("To be, or not to be, that is the question.\n" * 40)
    (tmp / "names.txt").write_text("\n".join(["emma", "olivia", "ava", "isabella", "sophia", "mia"] * 10))
    assert (
        main(
            [
                "lm",
                "train",
                str(tmp / "play.txt"),
                "-o",
                str(tmp / "stream"),
                "--max-steps",
                "5",
                "--seq-len",
                "16",
                *TINY_LM,
            ]
        )
        == 0
    )
    assert (
        main(
            [
                "lm",
                "train",
                str(tmp / "names.txt"),
                "-o",
                str(tmp / "lines"),
                "--mode",
                "lines",
                "--max-steps",
                "5",
                *TINY_LM,
            ]
        )
        == 0
    )
    return tmp


# ------------------------------------------------------------------------------ truncated gzip
def test_truncated_gzip_text_for_lm_train_and_eval(tmp_path, cli_error, runs):
    gz = truncated_gzip(tmp_path / "input.txt.gz", random_text(200_000))
    for mode in ("stream", "lines"):
        cli_error(
            "lm",
            "train",
            gz,
            "-o",
            tmp_path / mode,
            "--mode",
            mode,
            "--max-steps",
            1,
            *TINY_LM,
            match="corrupt gzip file",
        )
        assert not (tmp_path / mode).exists()
    cli_error("lm", "eval", runs / "stream", gz, match="corrupt gzip file")


@pytest.mark.parametrize("method", ["word2vec", "glove", "ppmi"])
def test_truncated_gzip_corpus_for_embed_train(tmp_path, cli_error, method):
    words = [f"w{i}" for i in range(50)]
    rng = np.random.default_rng(0)
    text = "\n".join(" ".join(rng.choice(words, size=12)) for _ in range(3000))
    gz = truncated_gzip(tmp_path / "corpus.txt.gz", text)
    err = cli_error(
        "embed",
        "train",
        gz,
        "-o",
        tmp_path / "v.bin",
        "--method",
        method,
        "--min-count",
        1,
        "--dim",
        4,
        "--epochs",
        1,
        match="corpus.txt.gz",
    )
    assert "ended before the end-of-stream marker" in err or "corrupt" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["corpus.txt.gz"]  # no vectors file


def test_truncated_gzip_pairs_for_translate_train(tmp_path, cli_error):
    lines = "\n".join(f"Ka lo {i}.\tkax lox {i} !" for i in range(3000))
    gz = truncated_gzip(tmp_path / "pairs.tsv.gz", lines)
    cli_error("translate", "train", gz, "-o", tmp_path / "run", match="corrupt gzip file")
    assert not (tmp_path / "run").exists()


# ------------------------------------------------------------------------------ unseen characters
@pytest.mark.parametrize("run,text", [("stream", "To be, or not to be? Zounds!\n"), ("lines", "emma\nzoë\n")])
def test_lm_eval_names_the_characters_the_model_never_saw(tmp_path, cli_error, runs, run, text):
    f = tmp_path / "other.txt"
    f.write_text(text)
    err = cli_error("lm", "eval", runs / run, f, match="not in the model's vocabulary")
    trained = (runs / {"stream": "play.txt", "lines": "names.txt"}[run]).read_text()
    unseen = "".join(sorted(set(text) - set(trained) - {"\n"}))
    assert f"{len(unseen)} character(s) not in the model's vocabulary: {unseen!r}" in err


# ------------------------------------------------------------------------------ BOM and CRLF pairs
def test_pairs_with_a_bom_and_crlf_read_as_the_plain_file(tmp_path):
    from seqlab.translate.data import load_pair_data

    rows = [f"Ka lo {w}.\tkax lox {w}x !" for w in "mi nu pe ro sa ti ka lo mi nu pe ro".split()] * 2
    plain = tmp_path / "plain.tsv"
    plain.write_bytes(("\n".join(rows) + "\n").encode())
    odd = tmp_path / "odd.tsv"
    odd.write_bytes(b"\xef\xbb\xbf" + ("\r\n".join(rows) + "\r\n").encode())
    a, b = load_pair_data(plain), load_pair_data(odd)
    assert (a.train, a.valid, a.test, a.n_read) == (b.train, b.valid, b.test, b.n_read)
    words = {w for part in (b.train, b.valid, b.test) for s, t in part for w in s + t}
    assert not any("\ufeff" in w or "\r" in w for w in words) and "ka" in words


def test_translate_trains_on_a_bom_crlf_pairs_file(tmp_path, cli):
    rows = [f"Ka lo {w}.\tkax lox {w}x !" for w in "mi nu pe ro sa ti".split()] * 4
    odd = tmp_path / "odd.tsv"
    odd.write_bytes(b"\xef\xbb\xbf" + ("\r\n".join(rows) + "\r\n").encode())
    code, out, err = cli(
        "translate",
        "train",
        odd,
        "-o",
        tmp_path / "run",
        "--max-epochs",
        1,
        "--emb-size",
        8,
        "--hidden-size",
        8,
        "--beam",
        1,
    )
    assert code == 0, err
    from seqlab.translate.translator import Translator

    tr = Translator.load(tmp_path / "run")
    assert "ka" in tr.src_vocab.stoi and not any("\r" in w or "\ufeff" in w for w in tr.src_vocab.itos)


# ------------------------------------------------------------------------------ empty --prime
@pytest.mark.parametrize("run,amount", [("stream", ["--length", 40]), ("lines", ["-n", 5])])
def test_empty_prime_is_as_if_not_given(runs, cli, capsys, run, amount):
    """Stream models then start from the default prime (a newline), lines models use no prefix."""
    with_empty = cli("lm", "sample", runs / run, "--prime", "", *amount, "--seed", 2)
    without = cli("lm", "sample", runs / run, *amount, "--seed", 2)
    assert with_empty[0] == without[0] == 0, with_empty[2]
    assert with_empty[1] == without[1] and with_empty[1].strip()
    with pytest.raises(SystemExit):
        cli("lm", "sample", "--help")
    assert "empty: as if not given" in " ".join(capsys.readouterr().out.split())


# ------------------------------------------------------------------------------ one 10 MB line
def test_a_10mb_single_line_is_one_long_stream(long_line_file, tmp_path, cli):
    """Stream mode needs no newlines: a 10 MB one-line file trains like any text."""
    code, out, err = cli(
        "lm",
        "train",
        long_line_file,
        "-o",
        tmp_path / "run",
        "--max-steps",
        2,
        "--seq-len",
        16,
        "--val-fraction",
        "0.001",
        *TINY_LM,
    )
    assert code == 0, err
    m = json.loads(out.strip().splitlines()[-1])
    assert m["steps"] == 2 and "on 9,990,000 characters" in err  # all but the validation 0.1%


def test_a_10mb_single_line_in_lines_mode_is_one_clear_line(long_line_file, tmp_path, cli_error, runs):
    cli_error(
        "lm",
        "train",
        long_line_file,
        "-o",
        tmp_path / "run",
        "--mode",
        "lines",
        "--max-steps",
        1,
        *TINY_LM,
        match="a line of 10,000,000 characters",
    )
    assert not (tmp_path / "run").exists()
    cli_error("lm", "eval", runs / "lines", long_line_file, match="use stream mode")


def test_a_10mb_single_line_trains_word2vec(long_line_file, tmp_path, cli):
    """word2vec cuts a line into sentences of MAX_SENTENCE tokens (windows stop there) and trains."""
    out = tmp_path / "v.txt"
    code, stdout, err = cli(
        "embed",
        "train",
        long_line_file,
        "-o",
        out,
        "--dim",
        4,
        "--epochs",
        1,
        "--min-count",
        50,
        "--workers",
        1,
    )
    assert code == 0, err
    stats = json.loads(stdout.strip().splitlines()[-1])
    assert stats["corpus_words"] > 1_000_000 and out.stat().st_size > 0


def test_a_10mb_single_line_pairs_file_is_one_clear_line(long_line_file, tmp_path, cli_error):
    """The line holds a tab, so it is a pair; neither side fits --max-len words."""
    cli_error(
        "translate", "train", long_line_file, "-o", tmp_path / "run", match="pairs left after filtering"
    )
    assert not (tmp_path / "run").exists()
