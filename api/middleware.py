"""Per-request plumbing around every route: who the client is, its lane, safe headers, no leaked failures.

One pure ASGI middleware, innermost of the app's own stack so that it sees the route's response:
- the client (api.fairshare) and the lane (/sparql is heavy, the rest light) go into context variables;
- the service names itself by `public_base_url` when it is set, whatever the Host header; unset, by a
  Host that is one of `public_hosts`, else by the address the server listens on: no page, editor link
  or service description names a host a client made up (or an invalid one), and all agree with VoID;
- security headers on every response (CSP and frame options on HTML);
- an exception the routes did not turn into an error answer is logged once with its traceback and
  answered with the JSON 500, and is not raised further: the keep-alive connection survives.
"""

import json
import logging

from api.errors import ApiError
from api.fairshare import HEAVY, LANE, LIGHT, TICKET, ClientBudgets, Ticket, client_of

log = logging.getLogger("swapgraph.api")

CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
       "font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
       "frame-ancestors 'none'")
ALWAYS = [(b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"strict-origin-when-cross-origin")]
ON_HTML = [(b"content-security-policy", CSP.encode()), (b"x-frame-options", b"DENY")]
HEAVY_PATHS = ("/sparql",)


class RequestGuard:
    def __init__(self, app, settings):
        self.app = app
        self.settings = settings
        self.public_hosts = {host.lower() for host in settings.public_hosts}
        self.origin = settings.public_origin
        self.budgets = ClientBudgets(settings.client_max_queries, settings.client_query_seconds,
                                     settings.client_window)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        scope = self._with_known_host(scope)
        client = client_of(scope, self.settings.trusted_proxies, self.settings.client_header)
        TICKET.set(Ticket(client, self.budgets, self.settings.max_query_terms or None))
        LANE.set(HEAVY if scope["path"] in HEAVY_PATHS else LIGHT)
        started = False

        async def send_with_headers(message):
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = list(message.get("headers", []))
                html = any(k == b"content-type" and v.startswith(b"text/html") for k, v in headers)
                headers += ALWAYS + (ON_HTML if html else [])
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception:
            log.exception("unhandled error on %s %s (client %s)", scope.get("method"), scope.get("path"), client)
            if started:  # too late for an error answer: the connection has to go
                raise
            error = ApiError(500, "internal_error", "internal error; it has been logged")
            body = json.dumps(error.body()).encode()
            await send_with_headers({"type": "http.response.start", "status": 500, "headers": [
                (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
            await send({"type": "http.response.body", "body": body})

    def _with_known_host(self, scope: dict) -> dict:
        if self.origin is not None:  # public_base_url names the service, its scheme too (a proxy may end TLS)
            return _named(scope, self.origin[1], self.origin[0])
        host = next((v.decode("latin-1") for k, v in scope.get("headers", []) if k == b"host"), None)
        if host is not None and host.lower() in self.public_hosts:
            return scope
        server = scope.get("server")
        if not server:
            return scope
        name = f"[{server[0]}]" if ":" in server[0] else server[0]
        default_port = {"http": 80, "https": 443}.get(scope.get("scheme", "http"))
        own = name if server[1] in (None, default_port) else f"{name}:{server[1]}"
        return _named(scope, own, scope.get("scheme", "http"))


def _named(scope: dict, host: str, scheme: str) -> dict:
    """The scope as if the request had come to scheme://host."""
    kept = [(k, v) for k, v in scope.get("headers", []) if k != b"host"]
    return {**scope, "scheme": scheme, "headers": kept + [(b"host", host.encode("latin-1"))]}
