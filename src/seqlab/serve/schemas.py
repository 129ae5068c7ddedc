"""The JSON API's request and response bodies. The `Field` limits are the validation (a request
past one gets a 422 that names the field and the limit) and the OpenAPI documentation at once.

Requests forbid unknown fields, so a typo ("temprature") is an error rather than a silent
default, and nothing can smuggle in a file path: runs and vectors are named, and the names are
the ones `seqlab serve` was started with. Request types are strict (pydantic's strict mode):
`{"n": true}` and `{"n": "5"}` are 422, not 1 and 5; an integer is accepted where a number is
asked for (`"temperature": 1`), and NaN or infinity never is. Only the query string of the
stream, where every value arrives as text, is read as numbers.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

MAX_BODY_BYTES = 64 * 1024  # larger request bodies get 413
MAX_TEXT = 2_000  # characters of any free text (prime, sentence, analogy query)
MAX_NAMES = 1_000
MAX_LENGTH = 10_000  # characters an LM may draw in one request
MAX_TOPN = 100
MAX_BEAM = 20
MAX_WORDS = 200  # words on one 2-D map
MAX_WORD = 100  # characters of one word
MAX_SEED = 2**62

RunName = Field(
    None,
    min_length=1,
    max_length=100,
    description="a run given to `seqlab serve --run NAME=DIR` (default: the first run of this kind)",
)
VectorsName = Field(
    None,
    min_length=1,
    max_length=100,
    description="vectors given to `seqlab serve --vectors NAME=...` (default: the first)",
)
Seed = Field(None, ge=0, le=MAX_SEED, description="same seed, same output (default: a fresh random seed)")
Temperature = Field(1.0, ge=0.0, le=10.0, description="< 1 safer, > 1 wilder; 0 is greedy")


class Request(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)


# ------------------------------------------------------------------------------------------ names
class NamesRequest(Request):
    n: int = Field(10, ge=1, le=MAX_NAMES, description="how many names")
    language: str | None = Field(
        None,
        max_length=40,
        description="surnames of one of 18 languages "
        "(served when `seqlab serve --names-languages`); null: first names",
    )
    start: str = Field("", max_length=50, description="every name begins with this prefix")
    temperature: float = Field(
        1.0,
        ge=0.0,
        le=10.0,
        description="< 1 safer, > 1 wilder; 0 draws the single likeliest name, so it needs n = 1",
    )
    seed: int | None = Seed
    allow_known: bool = Field(False, description="also return names of the training list")


class NamesResponse(BaseModel):
    names: list[str]
    novel: list[bool] = Field(description="per name: true where it is not in the training list")


class NamesStatus(BaseModel):
    state: Literal["off", "loading", "training", "ready", "failed"]
    message: str
    languages: list[str] = Field(description="languages served besides the first-names model")


# --------------------------------------------------------------------------------------------- lm
class SampleRequest(Request):
    run: str | None = RunName
    prime: str = Field("", max_length=MAX_TEXT, description="text the model continues (default: a newline)")
    length: int = Field(
        200,
        ge=1,
        le=MAX_LENGTH,
        description="characters to draw after the prime (lines models: the longest line)",
    )
    temperature: float = Temperature
    top_k: int | None = Field(None, ge=1, le=1000, description="draw only among the k likeliest characters")
    seed: int | None = Seed


class StreamQuery(SampleRequest):
    """The query string of GET /api/lm/stream: the fields of SampleRequest, given as text."""

    model_config = ConfigDict(strict=False)


class SampleResponse(BaseModel):
    text: str


# ----------------------------------------------------------------------------------------- embed
class SimilarRequest(Request):
    vectors: str | None = VectorsName
    word: str = Field(min_length=1, max_length=MAX_WORD)
    topn: int = Field(10, ge=1, le=MAX_TOPN)


class AnalogyRequest(Request):
    vectors: str | None = VectorsName
    query: str = Field(
        min_length=1,
        max_length=MAX_TEXT,
        description="words joined by + and -, e.g. 'king - man + woman' (3CosAdd)",
    )
    topn: int = Field(5, ge=1, le=MAX_TOPN)


class Scored(BaseModel):
    word: str
    score: float = Field(description="cosine similarity")


class RankedResponse(BaseModel):
    results: list[Scored]


class ProjectRequest(Request):
    vectors: str | None = VectorsName
    words: list[str] = Field(
        min_length=2, max_length=MAX_WORDS, description="words to place on the plane (duplicates are dropped)"
    )
    method: Literal["pca", "tsne"] = Field("pca", description="pca keeps parallel offsets parallel")


class Point(BaseModel):
    word: str
    x: float
    y: float


class ProjectResponse(BaseModel):
    points: list[Point]


# -------------------------------------------------------------------------------------- classify
class ClassifyRequest(Request):
    run: str | None = RunName
    text: str = Field(min_length=1, max_length=MAX_TEXT)


class HighlightOut(BaseModel):
    start: int = Field(description="first character of the span in `text`")
    end: int = Field(description="one past its last character")
    weight: float = Field(description="support for the predicted label (see `explanation`)")
    text: str


class ClassifyResponse(BaseModel):
    label: str
    probabilities: dict[str, float]
    highlights: list[HighlightOut]
    explanation: Literal["max-pool", "occlusion"] = Field(
        description="max-pool: n-grams whose CNN filters won the max-pool, weighted by their share of the "
        "label's logit margin; occlusion: words, weighted by the drop in the label's "
        "probability when the word is removed"
    )


# ------------------------------------------------------------------------------------- translate
class TranslateRequest(Request):
    run: str | None = RunName
    text: str = Field(min_length=1, max_length=MAX_TEXT)
    beam: int = Field(5, ge=1, le=MAX_BEAM, description="beam width (1: greedy)")


class TranslateResponse(BaseModel):
    translation: str
    source_tokens: list[str]
    output_tokens: list[str] = Field(description="the translation's words and a final <eos>")
    attention: list[list[float]] = Field(
        description="one row per output token, over the source tokens; each row sums to 1"
    )


# ---------------------------------------------------------------------------------------- health
class Health(BaseModel):
    status: Literal["ok"]
    runs: dict[str, Literal["lm", "classify", "translate"]] = Field(
        description="run name -> its kind, named by the command that trains it (seqlab lm / classify / "
        "translate train); error messages use the same names"
    )
    vectors: list[str]
    datasets: dict[str, str] = Field(
        description="classify run name -> the data set it was trained on (mr, trec, ... or a file's name)"
    )
