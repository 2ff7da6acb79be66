"""The FastAPI application: `create_app(settings)` wires settings, the query executor and the routers."""

import asyncio
import logging
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool
from starlette.middleware.cors import CORSMiddleware
from starlette.staticfiles import StaticFiles

from api import explain, health, linked_data, map_svg, search, site, sparql, views
from api.caching import CacheHeaders
from api.dataset import read_dataset_info, started_at
from api.errors import install_handlers
from api.executor import Executor
from api.middleware import RequestGuard
from api.serving import Serving, executor_for, serving_build
from api.serving import router as serving_router
from api.settings import Settings
from graph.catalog import Catalog

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


def check_assets(app: FastAPI) -> None:
    """Every folder the app serves files from and the rule files the pages read exist: a clear start-up
    error naming the folder, never 500s later."""
    missing = [route.app.directory for route in app.routes
               if isinstance(getattr(route, "app", None), StaticFiles) and not Path(route.app.directory).is_dir()]
    if not any(linked_data.RULES_DIR.glob("*.rq")):
        missing.append(linked_data.RULES_DIR)
    if missing:
        raise FileNotFoundError("missing folder(s) the service serves or reads: "
                                + ", ".join(str(folder) for folder in missing)
                                + " (static assets: run `make assets`)")


def _prefixes() -> dict[str, str]:
    from vocab import PREFIXES

    return dict(PREFIXES)


def create_app(settings: Settings | None = None, executor: Executor | None = None) -> FastAPI:
    """The app; with no executor it serves <data_dir>/current through a pool of settings.workers workers.

    An executor passed in that is already started is left running at shutdown (its owner closes it).
    """
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        check_assets(app)
        # Page and canned-question handlers run in threads and hold the GIL while they render: a few at
        # a time, so that the event loop (/health, /sparql hand-overs) keeps getting its turn.
        anyio.to_thread.current_default_thread_limiter().total_tokens = settings.page_threads
        app.state.catalog = Catalog.load(settings.queries_dir)  # a bad .rq file stops the start
        build = None
        own = executor
        if own is None:
            build = serving_build(settings)
            own = executor_for(build, settings, _prefixes())
        started_here = not own.running
        serving = app.state.serving = Serving(app, build, _prefixes())
        watcher = None
        try:
            # The map's gazetteer loads while the workers start, before /health answers: loaded by the
            # first burst of pages instead, it held the GIL for seconds (/health p99 350 ms, first round).
            # The first worker up is enough to answer (cold start): the others join the pool as they come.
            await asyncio.gather(run_in_threadpool(own.start, 1) if started_here else asyncio.sleep(0),
                                 run_in_threadpool(map_svg.warm))
            app.state.executor = own
            app.state.dataset = await run_in_threadpool(read_dataset_info, own, build)
            app.state.started_at = started_at()
            linked_data.warm(app)
            log.info("serving %s triples in %d named graphs", app.state.dataset.triples, len(app.state.dataset.graphs))
            if build is not None and settings.reload_interval > 0:
                watcher = asyncio.create_task(serving.watch(settings.reload_interval))
            yield
        finally:
            if watcher is not None:
                watcher.cancel()
            current = getattr(app.state, "executor", own)
            if started_here or current is not own:  # a pool started by a reload is always ours
                await run_in_threadpool(current.close)
            serving.close()

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
    app.add_middleware(sparql.SparqlRoute)  # innermost: /sparql skips the router (see api.sparql)
    app.add_middleware(CacheHeaders, settings=settings)  # inside RequestGuard: sees the Host pages are made for
    app.add_middleware(RequestGuard, settings=settings)
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
    app.include_router(serving_router)
    if settings.review:  # the public service stays read-only: reviewing is a local, opt-in mode
        from api.review import is_loopback, router as review_router

        if not is_loopback(settings.host):
            raise ValueError(f"SWAPGRAPH_REVIEW needs a loopback host, not {settings.host!r}")
        app.include_router(review_router)
    app.include_router(search.router)
    app.include_router(views.router)
    queries_router = _queries_router()
    if queries_router is not None:
        app.include_router(queries_router)
    return app
