"""An ASGI layer in front of the Gradio app: refuse requests for host names the server was not started for
(DNS rebinding: a page on another site whose name resolves to 127.0.0.1 would otherwise be same-origin
with the app), and send the browser security headers with every response."""
from __future__ import annotations

from collections.abc import Iterable

LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1")
# The page runs Gradio's own scripts and inline styles; it loads nothing from other origins, talks only to
# this server, and may not be framed. Gradio compiles the components' js_on_load code, hence 'unsafe-eval'.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; media-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; "
    "worker-src 'self' blob:; frame-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
    "frame-ancestors 'none'"
)
SECURITY_HEADERS = (
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
)
REFUSAL = (b"This server answers only for the host names it was started with; start it with "
           b"--allowed-host NAME (or QA_ALLOWED_HOSTS) to serve another name.\n")


def allowed_hosts(bind_host: str, extra: Iterable[str] = ()) -> frozenset[str]:
    """Loopback names, the address the server binds (unless it is a wildcard), and `extra`, lower-cased."""
    names = set(LOOPBACK_NAMES) | {h.strip().lower().strip("[]") for h in extra if h.strip()}
    if bind_host not in ("0.0.0.0", "::", ""):
        names.add(bind_host.lower().strip("[]"))
    return frozenset(names)


def host_name(header: str) -> str:
    """The name in a Host header, without its port ("[::1]:7860" -> "::1", "Example.org:80" -> "example.org")."""
    header = header.strip().lower()
    if header.startswith("["):
        return header[1:header.find("]")] if "]" in header else header
    return header.rsplit(":", 1)[0] if header.count(":") == 1 else header


class Guard:
    """ASGI middleware: a request whose Host is not allowed gets 421 (a websocket is closed); every response
    carries SECURITY_HEADERS."""

    def __init__(self, app, hosts: frozenset[str]):
        self.app = app
        self.hosts = hosts

    async def __call__(self, scope, receive, send):
        if scope["type"] not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        header = dict(scope.get("headers") or ()).get(b"host", b"").decode("latin-1")
        if host_name(header) not in self.hosts:
            if scope["type"] == "websocket":
                return await send({"type": "websocket.close", "code": 1008})
            await send({"type": "http.response.start", "status": 421,
                        "headers": [(b"content-type", b"text/plain; charset=utf-8"), *SECURITY_HEADERS]})
            return await send({"type": "http.response.body", "body": REFUSAL})

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", ())}
                message = {**message, "headers": [*message.get("headers", ()),
                                                  *(h for h in SECURITY_HEADERS if h[0] not in present)]}
            await send(message)
        return await self.app(scope, receive, send_with_headers)
