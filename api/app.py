"""The FastAPI application: `create_app(settings)` wires settings, the query executor and the routers."""

import logging
from contextlib import ExitStack, asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool
from starlette.middleware.cors import CORSMiddleware

from api import explain, health, linked_data, search, site, sparql
from api.dataset import read_dataset_info, started_at
from api.errors import install_handlers
from api.executor import Executor
from api.settings import Settings
from graph.catalog import Catalog
from graph.store import StoreLayout

log = logging.getLogger("swapgraph.api")


def _queries_router():
    """The canned-questions router, when api/queries.py exists (a broken one stops the app)."""
    try:
        from api.queries import router
    except ModuleNotFoundError as exc:
        if exc.name != "api.queries":
            raise
        return None
    return router


def _serving_build(settings: Settings) -> Path:
    build = StoreLayout(settings.data_dir).current_build()
    if build is None or not build.exists():
        raise FileNotFoundError(f"no graph built under {settings.data_dir}: run `swapgraph build` first")
    return build


def _prefixes() -> dict[str, str]:
    from graph.vocab import PREFIXES

    return dict(PREFIXES)


def create_app(settings: Settings | None = None, executor: Executor | None = None) -> FastAPI:
    """The app; with no executor it serves <data_dir>/current through a pool of settings.workers workers.

    An executor passed in that is already started is left running at shutdown (its owner closes it).
    """
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        app.state.catalog = Catalog.load(settings.queries_dir)  # a bad .rq file stops the start
        build = None
        own = executor
        if own is None:
            build = _serving_build(settings)
            own = Executor.from_path(
                build,
                workers=settings.workers,
                queue_wait=settings.queue_wait,
                max_depth=settings.max_nesting_depth,
                prefixes=_prefixes(),
                memory_limit_mb=settings.worker_memory_mb or None,
            )
        started_here = not own.running
        held = ExitStack()
        if build is not None:  # so that a later build's clean-up leaves this one alone
            held.enter_context(StoreLayout(settings.data_dir).serving(build))
        if started_here:
            await run_in_threadpool(own.start)
        try:
            app.state.executor = own
            app.state.dataset = await run_in_threadpool(read_dataset_info, own, build)
            app.state.started_at = started_at()
            linked_data.warm(app)
            log.info("serving %s triples in %d named graphs", app.state.dataset.triples, len(app.state.dataset.graphs))
            yield
        finally:
            if started_here:
                await run_in_threadpool(own.close)
            held.close()

    app = FastAPI(
        title="Swapgraph",
        summary="An open knowledge graph of prisoner exchanges: SPARQL endpoint and canned questions.",
        version="0.1.0",
        lifespan=lifespan,
        # /docs is served by api.site from the project's own Swagger UI assets; ReDoc would need a CDN
        docs_url=None,
        redoc_url=None,
        # FastAPI's OpenTelemetry hooks: the service exports no telemetry, so skip their per-request checks.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.settings = settings
    install_handlers(app)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(settings.cors_origins),
            allow_credentials=False,
            allow_methods=["GET", "HEAD", "POST"],
            allow_headers=["Accept", "Content-Type"],
            expose_headers=[sparql.TRUNCATED_HEADER],
            max_age=600,
        )
    app.include_router(sparql.router)
    app.include_router(health.router)
    app.include_router(site.router)
    app.include_router(linked_data.router)
    app.include_router(explain.router)
    app.include_router(search.router)
    queries_router = _queries_router()
    if queries_router is not None:
        app.include_router(queries_router)
    return app
