"""/health and /version: answered on the event loop, never waiting for a query worker."""

from importlib import metadata

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

router = APIRouter(tags=["service"])


def _version() -> str:
    try:
        return metadata.version("swapgraph")
    except metadata.PackageNotFoundError:
        return "unknown"


@router.get("/health", responses={503: {"description": "No query worker is alive"}})
async def health(request: Request) -> JSONResponse:
    """Liveness: answers at once, whatever the query workers are doing; degraded while some are down."""
    executor = request.app.state.executor
    live = executor.live
    status = "ok" if live >= executor.size else "degraded" if live else "unavailable"
    body = {"status": status, "workers": executor.size, "live_workers": live, "idle_workers": executor.idle,
            "build": request.app.state.dataset.build}
    return JSONResponse(body, status_code=503 if status == "unavailable" else 200)


@router.get("/version")
async def version(request: Request) -> dict:
    """The software version and the served dataset: build time and triple counts per named graph."""
    return {
        "name": "swapgraph",
        "version": _version(),
        "started_at": request.app.state.started_at,
        "dataset": request.app.state.dataset.as_json(),
    }
