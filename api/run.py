"""Run the service with uvicorn: `serve(Settings.from_env())` (what `swapgraph serve` calls)."""

import logging

import uvicorn

from api.app import create_app
from api.settings import Settings


def serve(settings: Settings) -> None:
    """Serve on settings.host:settings.port until interrupted."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_level="info", access_log=False)


if __name__ == "__main__":
    serve(Settings.from_env())
