"""The web API and its page: `create_app(registry)` -> a FastAPI app serving already-loaded models.

    app = create_app(Registry.load(runs={"mr": "runs/mr"}), workers=2)
    TestClient(app).post("/api/classify", json={"run": "mr", "text": "a gorgeous film"}).json()

Every model call runs on a thread of a bounded pool (`workers` at a time, the others wait their
turn) under torch.inference_mode(): models are only read, each request draws with its own
torch.Generator, so concurrent requests neither reload nor disturb anything. Errors are
{"error": "one line"} naming the JSON field: 422 for a bad request (the field and its limit
named), 404 for an unknown run, vectors or route, 413 for a body over 64 KiB, 503 while the names
model trains; before any route, seqlab.serve.guard answers 400 (Host), 401 (token), 429 (rate).

The routes, their bodies and limits are listed in docs/serve.md and at /openapi.json.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Annotated

import anyio
import numpy as np
import torch
from fastapi import FastAPI, Query
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, StreamingResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException

from seqlab.errors import ParameterError, SeqlabError
from seqlab.serve import schemas as S
from seqlab.serve.guard import Guard
from seqlab.serve.registry import CLASSIFY, LM, TRANSLATE, NotFound, NotReady, Registry

STATIC = Path(__file__).parent / "static"
STREAM_CHUNK_CHARS = 64  # an SSE event carries at most this many characters...
STREAM_CHUNK_SECONDS = 0.05  # ...or what was drawn in this long, whichever comes first


# -------------------------------------------------------------------------------- the thread pool
def _inference(fn, *args):
    with torch.inference_mode():
        return fn(*args)


class Pool:
    """At most `workers` model calls at a time, each on a worker thread under inference_mode."""

    def __init__(self, workers: int):
        if workers < 1:
            raise ParameterError("workers", f"must be at least 1, got {workers}")
        self.workers = workers
        self._limiter: anyio.CapacityLimiter | None = None

    async def run(self, fn, *args):
        if self._limiter is None:  # created inside the event loop that uses it
            self._limiter = anyio.CapacityLimiter(self.workers)
        return await anyio.to_thread.run_sync(partial(_inference, fn, *args), limiter=self._limiter)


def take(chars: Iterator[str], most: int = STREAM_CHUNK_CHARS, seconds: float = STREAM_CHUNK_SECONDS) -> str:
    """The next characters of a sampling iterator: up to `most`, or what `seconds` gave ("" at the end)."""
    out = []
    t_end = time.perf_counter() + seconds
    for ch in chars:
        out.append(ch)
        if len(out) >= most or time.perf_counter() >= t_end:
            break
    return "".join(out)


# -------------------------------------------------------------------------------------- errors
def error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": " ".join(str(message).split()) or "error"}, status_code=status)


# pydantic error type -> one line naming the field and the limit (ctx holds pydantic's limits)
MESSAGES = {
    "json_invalid": "the request body is not valid JSON",
    "missing": "{field} is required",
    "extra_forbidden": "unknown field {field!r}",
    "less_than_equal": "{field} must be at most {le}",
    "greater_than_equal": "{field} must be at least {ge}",
    "string_too_long": "{field} must be at most {max_length} characters",
    "string_too_short": "{field} must not be empty",
    "too_long": "{field} must have at most {max_length} items",
    "too_short": "{field} must have at least {min_length} items",
    "int_type": "{field} must be an integer",
    "int_parsing": "{field} must be an integer",
    "float_type": "{field} must be a number",
    "float_parsing": "{field} must be a number",
    "finite_number": "{field} must be a finite number",
    "bool_type": "{field} must be true or false",
    "string_type": "{field} must be a string",
    "list_type": "{field} must be a list",
    "literal_error": "{field} must be one of {expected}",
}


def describe(errors: list[dict]) -> str:
    """One line for pydantic's validation errors, naming the field and the limit it broke."""
    if not errors:
        return "invalid request"
    e = errors[0]
    loc = list(e.get("loc", ()))
    field = ".".join(str(x) for x in loc[1:] if loc[:1] in (["body"], ["query"])) or ".".join(map(str, loc))
    template = MESSAGES.get(e.get("type", ""))
    if not field and e.get("type") == "missing":
        line = "a JSON body is required"
    elif not field and e.get("type") in ("model_type", "model_attributes_type", "dict_type"):
        line = "the JSON body must be an object of named fields"
    elif template:
        line = template.format(field=field, **(e.get("ctx") or {}))
    else:
        line = f"{field}: {e.get('msg', 'invalid')}" if field else e.get("msg", "invalid request")
    more = len(errors) - 1
    return line + (f" (and {more} more problem{'s' * (more > 1)})" if more else "")


def _status(e: SeqlabError) -> int:
    return 404 if isinstance(e, NotFound) else 503 if isinstance(e, NotReady) else 422


# --------------------------------------------------------------------------------------- the app
def create_app(
    registry: Registry,
    workers: int = 2,
    allowed_hosts: list[str] | None = None,
    token: str | None = None,
    rate_limit: float | None = None,
) -> FastAPI:
    """A FastAPI app over `registry`'s models, with at most `workers` model calls at a time.

    allowed_hosts: the Host names accepted (None: any; the CLI passes the loopback names when it
    binds 127.0.0.1). token: every /api/* route but /api/health needs `Authorization: Bearer
    TOKEN` (None: none needed); printable ASCII without spaces. rate_limit: /api/* requests per
    second per client address (None or 0: no limit). See seqlab.serve.guard."""
    pool = Pool(workers)
    if token is not None and not (token and all("!" <= c <= "~" for c in token)):
        raise ParameterError("token", "must be printable ASCII characters without spaces")
    if rate_limit is not None and not rate_limit >= 0:
        raise ParameterError("rate_limit", f"must be at least 0, got {rate_limit}")
    app = FastAPI(
        title="seqlab",
        version=_version(),
        docs_url=None,
        redoc_url=None,
        description="Neural sequence models of one lecture on RNNs: names, text, word vectors, "
        'sentence classification, attention translation. Errors: {"error": line}.',
    )
    app.state.registry, app.state.pool = registry, pool
    app.add_middleware(Guard, allowed_hosts=allowed_hosts, token=token, rate_limit=rate_limit)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request, exc: RequestValidationError):
        return error(422, describe(exc.errors()))

    @app.exception_handler(HTTPException)
    async def _http(request, exc: HTTPException):
        if exc.status_code == 404:
            return error(404, f"not found: {request.url.path}")
        if exc.status_code == 405:
            return error(405, f"{request.method} is not allowed on {request.url.path}")
        return error(exc.status_code, exc.detail)

    @app.exception_handler(SeqlabError)
    async def _seqlab(request, exc: SeqlabError):
        headers = {"Retry-After": "10"} if isinstance(exc, NotReady) else None
        response = error(_status(exc), str(exc))
        response.headers.update(headers or {})
        return response

    @app.exception_handler(Exception)
    async def _crash(request, exc: Exception):
        return error(500, f"internal error ({type(exc).__name__}); see the server's log")

    # -- page ---------------------------------------------------------------------------------
    @app.api_route("/", methods=["GET", "HEAD"], include_in_schema=False)
    async def index():
        return FileResponse(STATIC / "index.html")

    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    # -- health -------------------------------------------------------------------------------
    @app.get("/api/health", response_model=S.Health)
    async def health():
        return {
            "status": "ok",
            "runs": registry.kinds(),
            "vectors": list(registry.vectors),
            "datasets": registry.datasets(),
        }

    # -- names --------------------------------------------------------------------------------
    @app.get("/api/names/status", response_model=S.NamesStatus)
    async def names_status():
        svc = registry.names
        return {"state": svc.state, "message": svc.message, "languages": svc.languages}

    @app.post("/api/names", response_model=S.NamesResponse)
    async def names(req: S.NamesRequest):
        model = registry.names.get(req.language)
        if req.temperature == 0:  # greedy: one name, the same on every draw
            if req.n > 1:
                raise SeqlabError(
                    f"temperature 0 always draws the same, likeliest name, so it gives 1 name, not n = "
                    f"{req.n}: ask for n = 1 or raise temperature above 0"
                )
            found = await pool.run(model.generate, 1, req.start, 0.0, req.seed, True)
            if not found:
                raise SeqlabError("at temperature 0 the likeliest name is empty: raise temperature above 0")
            if found[0] in model.known and not req.allow_known:
                raise SeqlabError(
                    f"at temperature 0 the only name is {found[0]!r}, which is in the training list: "
                    "set allow_known or raise temperature above 0"
                )
        else:
            found = await pool.run(
                model.generate, req.n, req.start, req.temperature, req.seed, req.allow_known
            )
        return {"names": found, "novel": [name not in model.known for name in found]}

    # -- lm -----------------------------------------------------------------------------------
    @app.post("/api/lm/sample", response_model=S.SampleResponse)
    async def lm_sample(req: S.SampleRequest):
        lm = registry.run(req.run, LM)
        text = await pool.run(
            partial(
                lm.sample,
                length=req.length,
                temperature=req.temperature,
                top_k=req.top_k,
                prime=req.prime or None,
                seed=req.seed,
            )
        )
        return {"text": text}

    @app.get(
        "/api/lm/stream",
        responses={
            200: {
                "content": {"text/event-stream": {}},
                "description": 'events `data: {"text": chars}`, then `event: end` (or `event: error`)',
            }
        },
    )
    async def lm_stream(q: Annotated[S.StreamQuery, Query()]):
        lm = registry.run(q.run, LM)
        chars = lm.stream(q.prime or None, q.length, q.temperature, q.top_k, q.seed)
        first = await pool.run(take, chars)  # a bad prime fails here, as a plain 422

        async def events():
            sent, chunk = 0, first
            try:
                while chunk:
                    sent += len(chunk)
                    yield f"data: {json.dumps({'text': chunk})}\n\n"
                    chunk = await pool.run(take, chars)
            except SeqlabError as e:
                yield f"event: error\ndata: {json.dumps({'error': str(e)})}\n\n"
                return
            yield f"event: end\ndata: {json.dumps({'chars': sent})}\n\n"

        return StreamingResponse(
            events(),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )

    # -- embeddings ---------------------------------------------------------------------------
    def ranked(pairs) -> dict:
        return {"results": [{"word": w, "score": float(s)} for w, s in pairs]}

    @app.post("/api/embed/similar", response_model=S.RankedResponse)
    async def similar(req: S.SimilarRequest):
        kv = registry.vectors_for(req.vectors)
        return ranked(await pool.run(partial(kv.most_similar, positive=[req.word], topn=req.topn)))

    @app.post("/api/embed/analogy", response_model=S.RankedResponse)
    async def analogy(req: S.AnalogyRequest):
        from seqlab.embeddings.evaluation import parse_expression

        kv = registry.vectors_for(req.vectors)
        positive, negative = parse_expression(req.query, known=kv)
        return ranked(
            await pool.run(partial(kv.most_similar, positive=positive, negative=negative, topn=req.topn))
        )

    @app.post("/api/embed/project", response_model=S.ProjectResponse)
    async def project(req: S.ProjectRequest):
        kv = registry.vectors_for(req.vectors)
        words = list(dict.fromkeys(w.strip() for w in req.words if w.strip()))
        missing = [w for w in words if w not in kv]
        if missing:
            raise SeqlabError(
                f"not in the vocabulary: {', '.join(missing[:10])}" + (" ..." if len(missing) > 10 else "")
            )
        if len(words) < 2:
            raise SeqlabError("give at least two different words to place on the plane")
        xy = await pool.run(_project, kv, words, req.method)
        return {"points": [{"word": w, "x": float(x), "y": float(y)} for w, (x, y) in zip(words, xy)]}

    # -- sentences ----------------------------------------------------------------------------
    @app.post("/api/classify", response_model=S.ClassifyResponse)
    async def classify(req: S.ClassifyRequest):
        from seqlab.classify.explain import explain

        clf = registry.run(req.run, CLASSIFY)
        check_known_words(clf, req.text, req.run)
        ex = await pool.run(explain, clf, req.text)
        return {
            "label": ex.label,
            "probabilities": ex.probabilities,
            "explanation": ex.method,
            "highlights": [vars(h) for h in ex.highlights],
        }

    # -- translation --------------------------------------------------------------------------
    @app.post("/api/translate", response_model=S.TranslateResponse)
    async def translate(req: S.TranslateRequest):
        tr = await pool.run(partial(registry.run(req.run, TRANSLATE).translate, req.text, beam=req.beam))
        return {
            "translation": tr.text,
            "source_tokens": tr.source_tokens,
            "output_tokens": tr.output_tokens,
            "attention": tr.attention,
        }

    return app


def check_known_words(clf, text: str, run: str | None) -> None:
    """SeqlabError when no word of `text` (as the classifier cleans it) is in its vocabulary: the
    label would be the model's guess for an empty sentence, and nothing could be highlighted."""
    from seqlab.classify.estimators import PAD, UNK

    est = clf.estimator
    vocab = getattr(getattr(est, "vocab_", None), "stoi", None)  # the torch classifiers
    vectorizer = getattr(est, "vectorizer_", None)  # NBSVM, MNB: its vocabulary_ is set on first use
    if vocab is None and vectorizer is not None:
        vocab = getattr(vectorizer, "vocabulary_", None) or vectorizer.vocabulary
    tokens = clf.clean(text).split()
    if vocab is None or not tokens or any(t in vocab and t not in (PAD, UNK) for t in tokens):
        return
    dataset = clf.info.get("dataset")
    which = f"run {run!r}" if run else "the classifier"
    raise SeqlabError(
        f"none of the words of text is in the vocabulary of {which}"
        + (f" (trained on {dataset})" if dataset else "")
        + ": its label would be a guess; write a sentence in the language it was trained on"
    )


def _project(kv, words: list[str], method: str) -> np.ndarray:
    from seqlab.embeddings.plot import project_2d

    return project_2d(np.stack([kv.get_vector(w) for w in words]), method=method)


def _version() -> str:
    from seqlab import __version__

    return __version__
