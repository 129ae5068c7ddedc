"""What the JSON API accepts, as a new user meets it (issue 25): strict types on every number and
flag of every request body, JSON bodies only, temperature 0 for names, analogies written without
spaces, sentences the classifier cannot read, and error lines that name JSON fields, never flags."""

from __future__ import annotations

import re
import typing

import pytest

pytest.importorskip("fastapi", reason="the serve extra is not installed: pip install 'seqlab[serve]'")

import torch  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402

from seqlab.serve import schemas as S  # noqa: E402
from seqlab.serve.app import create_app  # noqa: E402
from seqlab.serve.registry import NamesService, Registry  # noqa: E402

# every request body: its route and a smallest valid body for the tiny runs of conftest.py
ROUTES = {
    S.NamesRequest: ("/api/names", {}),
    S.SampleRequest: ("/api/lm/sample", {"run": "lm", "length": 5}),
    S.SimilarRequest: ("/api/embed/similar", {"word": "king"}),
    S.AnalogyRequest: ("/api/embed/analogy", {"query": "king - man + woman"}),
    S.ProjectRequest: ("/api/embed/project", {"words": ["king", "queen"]}),
    S.ClassifyRequest: ("/api/classify", {"run": "cnn", "text": "great"}),
    S.TranslateRequest: ("/api/translate", {"run": "fr-en", "text": "ka lo ."}),
}


def error_line(r, status: int) -> str:
    assert r.status_code == status, (r.status_code, r.text)
    body = r.json()
    assert set(body) == {"error"} and "\n" not in body["error"], body
    return body["error"]


def field_kind(annotation) -> str:
    """bool, int, float, str, list or literal: what a field holds, None allowed or not."""
    if typing.get_origin(annotation) is typing.Literal:
        return "literal"
    if typing.get_origin(annotation) is list:
        return "list"
    args = [a for a in typing.get_args(annotation) if a is not type(None)] or [annotation]
    return field_kind(args[0]) if args[0] is not annotation else annotation.__name__


# per kind: values a lax parser would take (True as 1, "5" as 5, 5.5 as 5) and the 422's words
WRONG = {
    "int": ((True, "5", 5.5), "must be an integer"),
    "float": ((True, "0.5"), "must be a number"),
    "bool": ((1, "true"), "must be true or false"),
    "str": ((5, True), "must be a string"),
    "list": (("king queen",), "must be a list"),
    "literal": ((1,), "must be one of"),
}


def test_every_request_model_has_a_route_here():
    requests = {c for c in vars(S).values() if isinstance(c, type) and issubclass(c, S.Request)}
    assert requests - {S.Request, S.StreamQuery} == set(ROUTES)


@pytest.mark.parametrize("model", list(ROUTES), ids=lambda m: m.__name__)
def test_every_field_is_strict(client, model):
    path, body = ROUTES[model]
    assert client.post(path, json=body).status_code == 200  # the body itself is fine
    for name, info in model.model_fields.items():
        values, said = WRONG[field_kind(info.annotation)]
        for value in values:
            line = error_line(client.post(path, json={**body, name: value}), 422)
            assert line.startswith(f"{name} ") and said in line, (name, value, line)


def test_a_whole_number_is_a_number_and_nan_is_not(client):
    assert client.post("/api/names", json={"n": 2, "temperature": 1, "seed": 1}).status_code == 200
    r = client.post(
        "/api/names", content=b'{"temperature": NaN}', headers={"content-type": "application/json"}
    )
    assert "temperature" in error_line(r, 422)


def test_the_stream_query_still_reads_numbers_from_text(client):
    r = client.get("/api/lm/stream", params={"run": "lm", "length": "12", "temperature": "0.5", "seed": "3"})
    assert r.status_code == 200 and r.text.rstrip().endswith('data: {"chars": 12}')
    assert "length" in error_line(client.get("/api/lm/stream", params={"run": "lm", "length": "x"}), 422)


def test_bodies_must_say_they_are_json(client):
    body = b'{"n": 2, "seed": 1}'
    line = error_line(client.post("/api/names", content=body), 422)
    assert "Content-Type: application/json" in line and "no Content-Type" in line
    for sent in ("text/plain", "application/x-www-form-urlencoded"):
        line = error_line(client.post("/api/names", content=body, headers={"content-type": sent}), 422)
        assert "Content-Type: application/json" in line and sent in line
    ok = client.post("/api/names", content=body, headers={"content-type": "application/json; charset=utf-8"})
    assert ok.status_code == 200 and len(ok.json()["names"]) == 2
    assert "object" in error_line(client.post("/api/names", json=[1, 2]), 422)


# ------------------------------------------------------------------------------ temperature 0
class Greedy:
    """A names model whose likeliest name is 'emma', a name of its training list."""

    known = frozenset({"emma"})

    def __init__(self):
        self.calls = []

    def generate(self, n, start="", temperature=1.0, seed=None, allow_known=False):
        self.calls.append((n, temperature, allow_known))
        return ["emma"] if allow_known else []


def test_names_at_temperature_0_give_one_name_or_say_why_not():
    model = Greedy()
    with TestClient(create_app(Registry(names=NamesService.ready({None: model})))) as c:
        line = error_line(c.post("/api/names", json={"n": 5, "temperature": 0}), 422)
        assert "temperature 0" in line and "n = 5" in line and "n = 1" in line
        assert model.calls == []  # refused before any sampling
        line = error_line(c.post("/api/names", json={"n": 1, "temperature": 0}), 422)
        assert "'emma'" in line and "training list" in line and "allow_known" in line
        r = c.post("/api/names", json={"n": 1, "temperature": 0, "allow_known": True}).json()
        assert r == {"names": ["emma"], "novel": [False]}
        assert all(call[:2] == (1, 0.0) for call in model.calls)


def test_names_at_temperature_0_are_the_greedy_name(client, registry):
    model = registry.names.get(None)
    greedy = model.lm.sample_lines(1, "", None, 0.0, generator=torch.Generator().manual_seed(0))[0]
    r = client.post("/api/names", json={"n": 1, "temperature": 0, "allow_known": True, "seed": 7}).json()
    assert r["names"] == [greedy]
    plain = client.post("/api/names", json={"n": 1, "temperature": 0})
    if greedy in model.known:
        assert "training list" in error_line(plain, 422)
    else:
        assert plain.json()["names"] == [greedy]


# --------------------------------------------------------------------------------- analogies
@pytest.mark.parametrize("query", ["king-man+woman", "king -man +woman", "king- man+ woman"])
def test_analogies_parse_without_spaces(client, query):
    spaced = client.post("/api/embed/analogy", json={"query": "king - man + woman", "topn": 3}).json()
    assert spaced["results"][0]["word"] == "queen"
    assert client.post("/api/embed/analogy", json={"query": query, "topn": 3}).json() == spaced


def test_a_hyphenated_word_the_vectors_know_stays_one_word():
    from seqlab.embeddings.evaluation import parse_expression

    known = {"king", "man", "woman", "well-known"}
    assert parse_expression("king-man+woman", known) == (["king", "woman"], ["man"])
    assert parse_expression("well-known-man", known) == (["well"], ["known", "man"])  # not one word
    assert parse_expression("well-known - man", known) == (["well-known"], ["man"])
    assert parse_expression("king-man+woman") == (["king-man+woman"], [])  # no vocabulary: as before


# ------------------------------------------------------------------------------- classifiers
@pytest.mark.parametrize("run", ["cnn", "nbsvm"])
def test_a_sentence_of_unknown_words_says_so(client, run):
    line = error_line(client.post("/api/classify", json={"run": run, "text": "zzz qqq xyzzy"}), 422)
    assert "none of the words" in line and "vocabulary" in line and repr(run) in line
    r = client.post("/api/classify", json={"run": run, "text": "zzz qqq awful"})
    assert r.status_code == 200 and r.json()["label"] in ("good", "bad")  # one known word is enough


# ------------------------------------------------------------------------ one name, no flags
def test_errors_name_fields_and_kinds_never_flags(client):
    bare = TestClient(create_app(Registry(names=NamesService.ready({None: Greedy()}))))
    lines = [
        error_line(bare.post("/api/lm/sample", json={}), 404),
        error_line(bare.post("/api/classify", json={"text": "great"}), 404),
        error_line(bare.post("/api/translate", json={"text": "great"}), 404),
        error_line(bare.post("/api/embed/similar", json={"word": "king"}), 404),
        error_line(bare.post("/api/names", json={"language": "Irish"}), 422),
        error_line(TestClient(create_app(Registry())).post("/api/names", json={}), 404),
        error_line(client.post("/api/translate", json={"run": "cnn", "text": "a"}), 422),
        error_line(client.post("/api/classify", json={"run": "lm", "text": "a"}), 422),
        error_line(client.post("/api/names", json={"n": 0}), 422),
        error_line(client.post("/api/names", json={"temperature": -1}), 422),
    ]
    for line in lines:
        assert not re.search(r"--[a-z]", line), line
    assert "no lm run" in lines[0] and "no classify run" in lines[1] and "no translate run" in lines[2]
    assert "a classify run; this route serves translate runs" in lines[6]
    assert "an lm run; this route serves classify runs" in lines[7]
    assert lines[8].startswith("n ") and lines[9].startswith("temperature ")
    kinds = set(client.get("/api/health").json()["runs"].values())
    assert kinds == {"lm", "classify", "translate"}  # the names the messages use
