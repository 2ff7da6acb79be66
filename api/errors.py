"""One error shape everywhere: `{"error": "<stable_code>", "message": "...", "status": N}`.

Errors are named constructors with the right status; anything unexpected is a logged 500 whose body
never carries a stack trace. The module imports nothing from the web framework at import time, so the
query workers can raise these errors too.
"""

import logging

log = logging.getLogger("swapgraph.api")


class ApiError(Exception):
    """An error the client is told about: a status, a stable code and a human message."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}

    def body(self) -> dict:
        return {"error": self.code, "message": self.message, "status": self.status}


class QuerySyntaxError(ApiError):
    def __init__(self, message: str):
        super().__init__(400, "query_syntax", message)


class QueryRefused(ApiError):
    """The query would reach outside the store or change it: refused before evaluation."""


class QueryTimeout(ApiError):
    def __init__(self, seconds: float):
        super().__init__(
            503, "query_timeout", f"the query ran past the {seconds:g} s time limit and was stopped",
            {"Retry-After": "1"},
        )


class QueryTooLarge(ApiError):
    def __init__(self, message: str):
        super().__init__(503, "query_memory_limit", message)


class Overloaded(ApiError):
    def __init__(self, message: str = "all query workers are busy; try again shortly"):
        super().__init__(503, "overloaded", message, {"Retry-After": "1"})


class TooManyRequests(ApiError):
    """A client has spent its share (api.fairshare): 429 with the seconds to wait."""

    def __init__(self, message: str, retry_after: int):
        super().__init__(429, "too_many_requests", message, {"Retry-After": str(max(1, retry_after))})


class WorkerFailure(ApiError):
    """A query worker died or failed unexpectedly: a bug or a crash, never the client's fault."""

    def __init__(self, message: str):
        super().__init__(500, "internal_error", message)


def bad_request(code: str, message: str) -> ApiError:
    return ApiError(400, code, message)


def update_refused(message: str = "this endpoint is read-only: SPARQL updates are refused") -> QueryRefused:
    return QueryRefused(403, "update_refused", message)


def service_refused() -> QueryRefused:
    return QueryRefused(
        403, "service_refused", "SERVICE (federated query) is refused: queries only read this store"
    )


def not_acceptable(offered: list[str]) -> ApiError:
    return ApiError(406, "not_acceptable", "no acceptable media type; this resource offers: " + ", ".join(offered))


def payload_too_large(code: str, message: str) -> ApiError:
    return ApiError(413, code, message)


def unsupported_media_type(code: str, message: str) -> ApiError:
    return ApiError(415, code, message)


def method_not_allowed(allow: list[str]) -> ApiError:
    return ApiError(405, "method_not_allowed", "method not allowed here", {"Allow": ", ".join(allow)})


STATUS_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid_parameter",
    429: "too_many_requests",
    500: "internal_error",
    503: "unavailable",
}


def respond(error: ApiError):
    """The JSON answer of an error."""
    from fastapi.responses import JSONResponse

    return JSONResponse(error.body(), status_code=error.status, headers=error.headers)


def answer_error(request, exc: ApiError):
    """An ApiError raised by a route, answered (and logged when it is the server's fault)."""
    if exc.status == 500:  # a worker failure; timeouts and overloads (503) are WARNINGs of the executor
        log.error("%s %s: %s (%s)", request.method, request.url.path, exc.code, exc.message)
    return respond(exc)


def install_handlers(app) -> None:
    """Register the handlers that turn every failure into the one JSON error shape."""
    from fastapi.exceptions import RequestValidationError
    from starlette.exceptions import HTTPException as StarletteHTTPException

    @app.exception_handler(ApiError)
    async def api_error(request, exc: ApiError):
        return answer_error(request, exc)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request, exc: StarletteHTTPException):
        code = STATUS_CODES.get(exc.status_code, "http_error")
        message = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ")
        return respond(ApiError(exc.status_code, code, message, dict(exc.headers or {})))

    @app.exception_handler(RequestValidationError)
    async def validation_error(request, exc: RequestValidationError):
        parts = []
        for err in exc.errors():
            where = ".".join(str(p) for p in err.get("loc", ()) if p not in ("query", "body"))
            parts.append(f"{where}: {err.get('msg', 'invalid')}" if where else err.get("msg", "invalid"))
        return respond(ApiError(422, "invalid_parameter", "; ".join(parts) or "invalid request"))

    @app.exception_handler(Exception)
    async def unexpected(request, exc: Exception):
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return respond(ApiError(500, "internal_error", "internal error; it has been logged"))
