"""`seqlab serve`: load the runs and vectors once, then launch the page and JSON API (seqlab.serve)."""

from __future__ import annotations

import argparse
import errno
import os
import socket
import sys
from pathlib import Path

from seqlab.cli.arguments import add_device_argument
from seqlab.errors import SeqlabError

# Served as today (no token, no rate limit, Host checked). Other 127.x.y.z addresses are loopback
# to the kernel but count as shared here: the safe side, and how the tests reach the classroom door.
LOOPBACK = ("127.0.0.1", "localhost", "::1")


def register(sub) -> None:
    p = sub.add_parser(
        "serve",
        help="a local web page and JSON API for names, text, word vectors, classifiers, translation",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Serve a page with one tab per part of the lecture (names, streamed text, word vectors, "
        "sentence classification with highlights, translation with its attention map) and the "
        "JSON API behind it.\n\n"
        "Each --run is a run directory of `seqlab lm train`, `classify train` or `translate "
        "train`; its kind is read from RUN/model.pt. With no --run and no --vectors, the names "
        "model is served (from the cache; trained on first use, about 2 minutes, while the page "
        "says so) and glove-6b-50d if the glove extra is installed. Models are loaded once, at "
        "start-up.\n\n"
        "Binds 127.0.0.1 (only this machine can connect). To serve a class on a LAN, bind another "
        "address with a token: every /api/* call but /api/health then needs `Authorization: Bearer "
        "TOKEN` (the page asks for it once per tab), and each client address may send --rate-limit "
        "requests per second.",
        epilog="examples:\n  seqlab serve\n"
        "  seqlab serve --run shakespeare=runs/shakespeare --run mr=runs/mr --run fr-en=runs/fr-en "
        "--vectors glove-6b-50d\n"
        "  seqlab serve --run runs/mr --port 8080 --workers 1\n"
        "  SEQLAB_TOKEN=correct-horse-battery seqlab serve --host 0.0.0.0\n"
        "API: docs/serve.md; the schema is at http://127.0.0.1:8000/openapi.json",
    )
    p.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to bind (default 127.0.0.1); any other address needs --token or --no-auth",
    )
    p.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    p.add_argument(
        "--token",
        default=None,
        help="every /api/* call but /api/health needs `Authorization: Bearer TOKEN` "
        "(default: $SEQLAB_TOKEN, which keeps it out of the process list)",
    )
    p.add_argument(
        "--no-auth",
        action="store_true",
        help="serve a non-loopback --host without a token (even with $SEQLAB_TOKEN set): anyone who "
        "can reach it can use it",
    )
    p.add_argument(
        "--rate-limit",
        type=float,
        default=20.0,
        metavar="PER_SECOND",
        help="beyond loopback, /api/* requests per second per client address; more get 429 "
        "(default 20; 0: no limit)",
    )
    p.add_argument(
        "--run",
        action="append",
        default=[],
        metavar="[NAME=]RUN_DIR",
        help="a run directory to serve, under NAME (default: the folder's name); repeatable",
    )
    p.add_argument(
        "--vectors",
        action="append",
        default=[],
        metavar="[NAME=]PATH_OR_NAME",
        help="word vectors to serve: a word2vec/GloVe file, a Word2Vec.save model file, or glove-6b-50d; "
        "repeatable",
    )
    p.add_argument(
        "--workers",
        type=int,
        default=2,
        help="model calls running at once (others wait); torch gets cores/workers threads each",
    )
    names = p.add_argument_group("names model")
    names.add_argument(
        "--names",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="serve the names model (default: only when no --run and no --vectors is given)",
    )
    names.add_argument(
        "--names-run",
        default=None,
        metavar="RUN_DIR",
        help="serve this run of `seqlab lm train --mode lines` as the names model",
    )
    names.add_argument(
        "--names-data",
        default=None,
        metavar="FILE",
        help="train the names model on this file of names instead of the bundled list",
    )
    names.add_argument(
        "--names-languages",
        action="store_true",
        help="also serve the surnames model of 18 languages (trained on first use)",
    )
    names.add_argument(
        "--names-train-minutes", type=float, default=2.0, help="training budget of a first run"
    )
    names.add_argument(
        "--cache-dir",
        default=None,
        help="where names models are cached (default: $SEQLAB_CACHE or ~/.cache/seqlab)",
    )
    add_device_argument(p)
    p.set_defaults(func=cmd_serve)


def named(specs: list[str], what: str, default_name) -> dict[str, str]:
    """['a=x', 'y'] -> {'a': 'x', default_name('y'): 'y'}; one line for a duplicate name."""
    out: dict[str, str] = {}
    for spec in specs:
        name, sep, value = spec.partition("=")
        if not sep:
            name, value = default_name(spec), spec
        if not name or not value:
            raise SeqlabError(f"--{what} {spec!r} should be NAME=VALUE or VALUE")
        if name in out:
            raise SeqlabError(f"two --{what} are named {name!r}; name them: --{what} NAME=...")
        out[name] = value
    return out


def cmd_serve(args) -> int:
    loopback, token = check_serve_args(args)
    check_port_free(args.host, args.port)  # before any import or model load: a busy port fails at once
    try:
        import uvicorn

        from seqlab.serve.app import create_app
        from seqlab.serve.registry import NamesService, Registry
    except ImportError as e:
        raise SeqlabError(
            f'seqlab serve needs FastAPI and uvicorn ({e.name} is missing): pip install "seqlab[serve]"'
        ) from None
    from seqlab.runtime import resolve_device, set_threads

    device = str(resolve_device(args.device))  # a GPU asked for and missing fails here, before loading
    runs = named(args.run, "run", lambda s: Path(s.rstrip("/")).name)
    vectors = named(args.vectors, "vectors", lambda s: s if not os.path.exists(s) else Path(s).stem)
    defaults = not runs and not vectors
    set_threads(max(1, (os.cpu_count() or 1) // args.workers))
    names = None
    if args.names_run:
        names = NamesService.from_run(args.names_run, device)
    elif args.names if args.names is not None else defaults:
        names = NamesService.start(
            args.names_data,
            _languages() if args.names_languages else [],
            args.names_train_minutes,
            args.cache_dir,
            log=log,
            device=device,
        )
    registry = Registry.load(runs, vectors, names, log=log, device=device)
    log(f"device: {device}")  # once every run has loaded (a bad one is its one error line alone)
    if defaults:
        try:
            registry.add_vectors("glove-6b-50d", "glove-6b-50d", log)
        except SeqlabError as e:  # the glove extra is not installed
            log(f"not serving glove-6b-50d: {e}")
    if not loopback and args.no_auth:
        log(
            f"WARNING: binding {args.host} with --no-auth: anyone who can reach this address can use "
            "the API (and its CPU). Pass --token unless you trust the network."
        )
    app = create_app(
        registry,
        args.workers,
        allowed_hosts=list(LOOPBACK) if loopback else None,
        token=token,
        rate_limit=None if loopback else args.rate_limit,
    )
    url_host = f"[{args.host}]" if ":" in args.host else args.host
    door = "" if token is None else "; the API needs the token"
    if not loopback and args.rate_limit:
        door += f", at most {args.rate_limit:g} requests/s per client"
    log(f"serving http://{url_host}:{args.port}/ (Ctrl-C stops){door}")
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", access_log=False)
    return 0


def check_serve_args(args) -> tuple[bool, str | None]:
    """Every flag checked before any work: (whether --host is loopback, so no rate limit; the token,
    from --token or else $SEQLAB_TOKEN unless --no-auth)."""
    if args.workers < 1:
        raise SeqlabError(f"--workers must be at least 1, got {args.workers}")
    if not 0 <= args.port <= 65535:
        raise SeqlabError(f"--port must be between 0 and 65535, got {args.port}")
    if not args.rate_limit >= 0:
        raise SeqlabError(f"--rate-limit must be at least 0 (0: no limit), got {args.rate_limit}")
    if args.token is not None and args.no_auth:
        raise SeqlabError("--token and --no-auth contradict each other; pass one")
    token = args.token
    if token is None and not args.no_auth:
        token = os.environ.get("SEQLAB_TOKEN") or None
    if token is not None and not (token and all("!" <= c <= "~" for c in token)):
        what = "--token" if args.token is not None else "SEQLAB_TOKEN"
        raise SeqlabError(f"{what} must be printable ASCII characters without spaces")
    loopback = args.host in LOOPBACK
    if not loopback and token is None and not args.no_auth:
        raise SeqlabError(
            f"--host {args.host} lets other machines in: pass --token TOKEN (or set SEQLAB_TOKEN), "
            "or --no-auth to serve without one"
        )
    return loopback, token


def check_port_free(host: str, port: int) -> None:
    """One line if (host, port) cannot be bound now, as uvicorn will bind it (SO_REUSEADDR set).
    A port taken in the seconds between this check and uvicorn's bind still fails, in uvicorn."""
    if port == 0:  # the kernel picks a free one
        return
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError as e:
            if e.errno == errno.EADDRINUSE:
                raise SeqlabError(f"port {port} is in use; pass --port") from None
            raise SeqlabError(f"cannot listen on {host} port {port}: {e.strerror or e}") from None


def _languages() -> list[str]:
    from seqlab.datasets import language_files

    return list(language_files())


def log(message: str) -> None:
    print(f"seqlab serve: {message}", file=sys.stderr, flush=True)
