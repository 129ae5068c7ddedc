"""What every request passes before a route sees it: `Guard`, one ASGI middleware. In order:

1. Host: a Host header outside `allowed_hosts` is 400 (on loopback, so a page that rebinds its
   DNS name to 127.0.0.1 cannot use the API).
2. Rate: with `rate_limit`, each client address may send that many /api/* requests per second
   (a token bucket: bursts of up to one second's worth, refilled continuously); beyond it, 429
   with Retry-After.
3. Token: with `token`, every /api/* route but /api/health needs `Authorization: Bearer TOKEN`,
   else 401. The comparison is `hmac.compare_digest` (its time says nothing about the token), and
   neither the token nor what a client sent is ever written to a log or an answer.
4. Content-Type: a POST to /api/* must say `application/json` (422 otherwise, naming what came):
   a cross-site form cannot send that type without a CORS preflight, which this server never
   answers.
5. Size: a body over `max_body` bytes is 413 (by Content-Length, or counted as it arrives).

Every answer, the refusals included, carries the security headers. `seqlab serve` passes no token
and no rate limit on loopback, and both beyond it (docs/serve.md, "Serving a classroom").
"""

from __future__ import annotations

import hmac
import json
import math
import time
from collections.abc import Callable

from starlette.exceptions import HTTPException

from seqlab.serve.schemas import MAX_BODY_BYTES

OPEN_ROUTES = ("/api/health",)  # answered without a token
SECURITY_HEADERS = [
    (
        b"content-security-policy",
        b"default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; "
        b"form-action 'none'; base-uri 'none'",
    ),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
]


class BodyTooLarge(HTTPException):
    def __init__(self, max_body: int = MAX_BODY_BYTES):
        super().__init__(413, f"the request body is larger than {max_body // 1024} KiB")


class RateLimiter:
    """A token bucket per client address: `rate` requests per second, bursts of up to `burst`
    (default: one second's worth). Addresses idle long enough to be full again are forgotten, so
    memory holds only the clients of about the last `burst / rate` seconds."""

    def __init__(self, rate: float, burst: float | None = None, clock: Callable[[], float] = time.monotonic):
        if not rate > 0:
            raise ValueError(f"rate must be positive, got {rate}")
        self.rate, self.burst, self.clock = rate, burst or max(1.0, rate), clock
        self._buckets: dict[str, tuple[float, float]] = {}  # address -> (tokens left, when)
        self._next_sweep = 0.0

    def wait(self, address: str) -> float:
        """0.0 if a request from `address` may go ahead now (and count it), else the seconds until
        one may."""
        now = self.clock()
        if now >= self._next_sweep:
            full = self.burst / self.rate  # seconds an idle bucket needs to fill up
            self._buckets = {a: b for a, b in self._buckets.items() if now - b[1] < full}
            self._next_sweep = now + full
        tokens, then = self._buckets.get(address, (self.burst, now))
        tokens = min(self.burst, tokens + (now - then) * self.rate)
        if tokens >= 1.0:
            self._buckets[address] = (tokens - 1.0, now)
            return 0.0
        self._buckets[address] = (tokens, now)
        return (1.0 - tokens) / self.rate


def bearer_matches(header: bytes | None, token: str) -> bool:
    """Whether an Authorization header is `Bearer TOKEN`, compared in constant time."""
    scheme, _, given = (header or b"").strip().partition(b" ")
    return scheme.lower() == b"bearer" and hmac.compare_digest(given.strip(), token.encode())


def json_content_type(value: bytes | None) -> str | None:
    """None if a Content-Type header says JSON, else the line that says what is wrong."""
    if not value:
        return "a JSON body with Content-Type: application/json is required (no Content-Type was sent)"
    media = value.decode("latin-1").split(";")[0].strip().lower()
    if media == "application/json":
        return None
    return f"the body must be JSON sent with Content-Type: application/json, not {media[:60]!r}"


class Guard:
    """ASGI middleware: the checks of the module docstring, then the app; security headers on
    every response. allowed_hosts None: any Host; token None: no token needed; rate_limit None or
    0: no limit."""

    def __init__(
        self,
        app,
        max_body: int = MAX_BODY_BYTES,
        allowed_hosts: list[str] | None = None,
        token: str | None = None,
        rate_limit: float | None = None,
    ):
        self.app, self.max_body, self.allowed_hosts, self.token = app, max_body, allowed_hosts, token
        self.limiter = RateLimiter(rate_limit) if rate_limit else None

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        refusal = self._refusal(scope, dict(scope["headers"]))
        if refusal is not None:
            return await reply(send, *refusal)
        seen = 0

        async def counted():
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_body:
                    raise BodyTooLarge(self.max_body)
            return message

        async def with_headers(message):
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *SECURITY_HEADERS]}
            await send(message)

        await self.app(scope, counted, with_headers)

    def _refusal(self, scope, headers: dict) -> tuple[int, str, list] | None:
        """(status, line, extra headers) of a request refused before the app, or None."""
        if self.allowed_hosts is not None:
            host = headers.get(b"host", b"").decode("latin-1")
            hostname = host[1:].split("]")[0] if host.startswith("[") else host.rsplit(":", 1)[0]
            if hostname not in self.allowed_hosts:
                return 400, f"host {host!r} is not served here", []
        path = scope.get("path", "")
        api = path.startswith("/api/")
        if api and self.limiter is not None:
            client = scope.get("client")
            wait = self.limiter.wait(client[0] if client else "")
            if wait:
                line = f"too many requests: at most {self.limiter.rate:g} per second from one address"
                return 429, line, [(b"retry-after", b"%d" % math.ceil(wait))]
        if api and self.token is not None and path not in OPEN_ROUTES:
            if not bearer_matches(headers.get(b"authorization"), self.token):
                what = "a wrong token" if b"authorization" in headers else "no token"
                line = f"this server needs its token (Authorization: Bearer TOKEN); the request had {what}"
                return 401, line, [(b"www-authenticate", b'Bearer realm="seqlab"')]
        if api and scope.get("method") == "POST":
            problem = json_content_type(headers.get(b"content-type"))
            if problem:
                return 422, problem, []
        length = headers.get(b"content-length")
        if length is not None:
            if not length.isdigit():
                return 400, "bad Content-Length header", []
            if int(length) > self.max_body:
                return 413, BodyTooLarge(self.max_body).detail, []
        return None


async def reply(send, status: int, message: str, headers: list | None = None) -> None:
    """Answer {"error": message} with `status`, the security headers and `headers`."""
    body = json.dumps({"error": message}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *(headers or []),
                *SECURITY_HEADERS,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
