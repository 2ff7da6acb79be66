"""HTTP caching of GET answers: ETag from the dataset version and the request, Last-Modified, Cache-Control, 304.

One pure ASGI middleware, inside RequestGuard (so it sees the Host that pages are rendered with):
- the dataset version (api.dataset.DatasetInfo: the build served now; a live reload swaps it) is read
  when the request arrives, before the route picks an executor, so that an answer is never labelled with
  a newer version than the build that made it;
- the ETag is a hash of that version and of everything an answer depends on: method, scheme, Host,
  path, query string and Accept (the negotiated representation, hence `Vary: Accept`). It is weak: two
  copies of a build give equivalent answers, not promised byte for byte;
- `If-None-Match` with the current ETag, or `If-Modified-Since` (when no `If-None-Match` is sent), turns
  a 200 into a 304 once the route has answered: only what would be a 200 is "not modified" (a URL that
  is 404 stays 404 whatever tag is sent: the tag is computed from the request, not from an answer);
- only 200 answers are labelled; an error or a refusal is `no-store`, so no cache keeps it as an answer.
Answers about the running process (/health, /version), the admin and review routes and the static
assets (which carry their own validators) are left alone.
"""

import hashlib
from datetime import datetime, timezone
from email.utils import format_datetime, parsedate_to_datetime

UNTOUCHED = ("/health", "/version", "/admin/", "/review", "/static/")
KEPT_ON_304 = {b"etag", b"cache-control", b"last-modified", b"vary", b"date"}
NO_STORE = (b"cache-control", b"no-store")


def dataset_version(app) -> tuple[str, datetime]:
    """(version, build time) of the dataset served now."""
    dataset = app.state.dataset
    version = getattr(dataset, "version", None) or dataset.build
    when = dataset.built_at or app.state.started_at
    if version is None:  # a dataset handed to the app in memory: the process start stands for its version
        version = f"started-{app.state.started_at}"
    built = datetime.fromisoformat(when).astimezone(timezone.utc).replace(microsecond=0)
    return version, built


def entity_tag(version: str, scope: dict, headers: dict) -> str:
    parts = ["GET" if scope["method"] == "HEAD" else scope["method"], scope.get("scheme", "http"),
             headers.get(b"host", ""), scope.get("root_path", "") + scope["path"],
             scope.get("query_string", b"").decode("latin-1"), headers.get(b"accept", "")]
    digest = hashlib.sha256("\n".join([version, *parts]).encode("utf-8", "surrogateescape")).hexdigest()
    return f'W/"{digest[:32]}"'


def matches(if_none_match: str, tag: str) -> bool:
    """Weak comparison (RFC 9110 13.1.2), as a GET is judged."""
    wanted = {candidate.strip().removeprefix("W/") for candidate in if_none_match.split(",")}
    return "*" in wanted or tag.removeprefix("W/") in wanted


def not_modified_since(if_modified_since: str, built: datetime) -> bool:
    try:
        since = parsedate_to_datetime(if_modified_since)
    except (TypeError, ValueError):
        return False  # an unreadable date is ignored, as RFC 9110 says
    if since.tzinfo is None:
        since = since.replace(tzinfo=timezone.utc)
    return built <= since


class CacheHeaders:
    def __init__(self, app, settings):
        self.app = app
        self.cache_control = settings.cache_control.encode("latin-1")

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD") or scope["path"].startswith(UNTOUCHED):
            return await self.app(scope, receive, send)
        headers = {}
        for key, value in scope.get("headers", ()):
            headers.setdefault(key, value.decode("latin-1"))
        version, built = dataset_version(scope["app"])
        tag = entity_tag(version, scope, headers)
        validators = [(b"etag", tag.encode()), (b"last-modified", format_datetime(built, usegmt=True).encode()),
                      (b"cache-control", self.cache_control)]
        if_none_match = headers.get(b"if-none-match", "")
        if if_none_match:
            unchanged = matches(if_none_match, tag)
        else:
            unchanged = not_modified_since(headers.get(b"if-modified-since", ""), built)
        skipping = False

        async def send_labelled(message):
            nonlocal skipping
            if message["type"] == "http.response.start":
                status = message["status"]
                kept = [(k, v) for k, v in message.get("headers", []) if k not in (b"etag", b"cache-control")]
                if status != 200:
                    message = {**message, "headers": kept + [NO_STORE]}
                else:
                    labelled = _with_vary(kept) + validators
                    if unchanged:
                        skipping = True
                        return await self._not_modified(send, labelled)
                    message = {**message, "headers": labelled}
            elif skipping:
                return  # the body of an answer replaced by a 304
            await send(message)

        await self.app(scope, receive, send_labelled)

    @staticmethod
    async def _not_modified(send, headers) -> None:
        kept = [(k, v) for k, v in headers if k.lower() in KEPT_ON_304]
        await send({"type": "http.response.start", "status": 304, "headers": kept})
        await send({"type": "http.response.body", "body": b""})


def _with_vary(headers: list) -> list:
    """The answer's headers with Accept among those it varies by."""
    for index, (key, value) in enumerate(headers):
        if key == b"vary":
            names = {name.strip().lower() for name in value.split(b",")}
            if b"accept" not in names and b"*" not in names:
                headers = [*headers[:index], (b"vary", value + b", Accept"), *headers[index + 1:]]
            return headers
    return headers + [(b"vary", b"Accept")]
