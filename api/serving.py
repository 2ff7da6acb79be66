"""The build being served, and switching to a new one without a restart (poll or POST /admin/reload).

A new `<data_dir>/current` gets its own warm pool of workers first; then new requests go to it
(app.state.executor, dataset and linked-data Site are swapped together), the queries running on the
old pool finish there, and the old pool is closed and its build released to clean-up. A build that
cannot be served (unreadable, workers that fail to start) leaves the current one serving.
"""

import asyncio
import logging
import threading
from contextlib import ExitStack

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from api import linked_data
from api.dataset import backend_for, read_dataset_info
from api.errors import ApiError
from api.executor import Executor, StoreSource
from graph.backends import Version

log = logging.getLogger("swapgraph.api")
LOOPBACK = frozenset({"127.0.0.1", "::1"})
PROXY_HEADERS = (b"forwarded", b"x-forwarded-for", b"x-real-ip")

router = APIRouter(tags=["service"])


def serving_build(settings) -> Version:
    """The version the settings' store serves now (embedded: <data_dir>/current; remote: its pointer)."""
    backend = backend_for(settings)
    build = backend.current()
    if build is None or not build.exists():
        step = "`swapgraph build`" if backend.kind == "embedded" else "`swapgraph build`, then `swapgraph push`"
        raise FileNotFoundError(f"no graph published in the {backend.describe()}: run {step} first")
    return build


def executor_for(build: Version, settings, prefixes: dict) -> Executor:
    return Executor(
        StoreSource(reader=build.reader),
        workers=settings.workers,
        light_workers=settings.light_workers,
        queue_wait=settings.queue_wait,
        overload_wait=settings.overload_wait,
        max_depth=settings.max_nesting_depth,
        prefixes=prefixes,
        memory_limit_mb=settings.worker_memory_mb or None,
        inline_budget_ms=settings.inline_query_ms,
    )


class Serving:
    """The served build of one app, its markers against clean-up, and the switch to a newer one."""

    def __init__(self, app, build: Version | None, prefixes: dict):
        self.app = app
        self.settings = app.state.settings
        self.backend = backend_for(self.settings)
        self.build = build
        self.prefixes = prefixes
        self.held: dict[Version, ExitStack] = {}
        self.lock = asyncio.Lock()
        self.reloads = 0
        if build is not None:
            self._hold(build)

    def _hold(self, build: Version) -> None:
        stack = ExitStack()
        stack.enter_context(self.backend.hold(build))  # so that a later build's clean-up leaves it alone
        self.held[build] = stack

    def _release(self, build: Version) -> None:
        stack = self.held.pop(build, None)
        if stack is not None:
            stack.close()

    def close(self) -> None:
        for build in list(self.held):
            self._release(build)

    async def reload(self) -> dict:
        """Serve <data_dir>/current if it is not the build served now; say what happened."""
        async with self.lock:
            newest = await run_in_threadpool(self.backend.current)
            if self.build is None or newest is None or newest == self.build or not newest.exists():
                return {"reloaded": False, "build": self.build.name if self.build else None}
            fresh = executor_for(newest, self.settings, self.prefixes)
            self._hold(newest)
            try:
                await run_in_threadpool(fresh.start)
                dataset = await run_in_threadpool(read_dataset_info, fresh, newest)
            except Exception:
                fresh.close()
                self._release(newest)
                raise
            state = self.app.state
            old, old_build = state.executor, self.build
            state.executor, state.dataset, self.build = fresh, dataset, newest
            linked_data.warm(self.app)
            self.reloads += 1
            log.info("now serving build %s (%s triples); retiring %s", newest.name, dataset.triples, old_build.name)
            grace = self.settings.query_timeout + self.settings.overload_wait + 1
            threading.Thread(target=self._retire, args=(old, old_build, grace), daemon=True,
                             name="swapgraph-retire").start()
            return {"reloaded": True, "build": newest.name}

    def _retire(self, old: Executor, build: Version, grace: float) -> None:
        old.retire(grace)
        self._release(build)

    async def watch(self, interval: float) -> None:
        """Look for a new current build every `interval` seconds until cancelled."""
        while True:
            await asyncio.sleep(interval)
            try:
                await self.reload()
            except Exception:
                log.exception("a new build could not be served; the previous one still is")


@router.post("/admin/reload")
async def admin_reload(request: Request) -> dict:
    """Serve the newest build now (from this machine only)."""
    peer = (request.scope.get("client") or ("", 0))[0]
    named = {*PROXY_HEADERS, request.app.state.settings.client_header.lower().encode("latin-1")} - {b""}
    proxied = any(key in named for key, _ in request.scope.get("headers", ()))
    if peer not in LOOPBACK or proxied:
        raise ApiError(403, "forbidden", "/admin/reload answers only requests made on this machine")
    serving = request.app.state.serving
    if serving.build is None:
        raise ApiError(409, "not_reloadable", "this service serves a dataset given to it, not a build folder")
    try:
        return await serving.reload()
    except Exception as exc:
        log.exception("reload failed")
        raise ApiError(503, "reload_failed", f"the new build could not be served ({exc}); the previous one still is")
