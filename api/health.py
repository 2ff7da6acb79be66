"""/health and /version: answered on the event loop, never waiting for a query worker."""

from importlib import metadata

from fastapi import APIRouter, Request

router = APIRouter(tags=["service"])


def _version() -> str:
    try:
        return metadata.version("swapgraph")
    except metadata.PackageNotFoundError:
        return "unknown"


@router.get("/health")
async def health(request: Request) -> dict:
    """Liveness: answers at once, whatever the query workers are doing."""
    executor = request.app.state.executor
    return {"status": "ok", "workers": executor.size, "idle_workers": executor.idle}


@router.get("/version")
async def version(request: Request) -> dict:
    """The software version and the served dataset: build time and triple counts per named graph."""
    return {
        "name": "swapgraph",
        "version": _version(),
        "started_at": request.app.state.started_at,
        "dataset": request.app.state.dataset.as_json(),
    }
