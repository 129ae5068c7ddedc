"""`seqlab serve`: a local page and JSON API over trained runs (pip install "seqlab[serve]").

    registry.py   the models a server holds, loaded once at start-up (runs by name, vectors, names)
    schemas.py    request and response bodies; their Field limits are the validation and the docs
    app.py        create_app(registry) -> the FastAPI app: routes, the bounded inference pool, errors
    guard.py      what every request passes first: Host, rate limit, token, JSON type, body size
    static/       the page (plain HTML, CSS and JavaScript, nothing fetched from elsewhere)

docs/serve.md describes the page, the API with curl examples, serving a class, and the security notes.
"""
