"""Run the service with uvicorn: `serve(Settings.from_env())` (what `swapgraph serve` calls), with the
connection limits of the settings: header size, count and read time, keep-alive, connections."""

import gc
import json
import logging
import resource
import sys

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from api.app import create_app
from api.errors import ApiError
from api.settings import Settings

log = logging.getLogger("swapgraph.api")


def _refusal(status: int, reason: str, code: str, message: str) -> bytes:
    body = json.dumps(ApiError(status, code, message).body()).encode()
    return (f"HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\ncontent-length: {len(body)}\r\n"
            "connection: close\r\n\r\n").encode() + body


class OneSendPerTurn:
    """A connection's transport whose writes made in one turn of the event loop go out in one send:
    uvicorn writes a response's head and its body apart, two syscalls (and two wake-ups of the client)
    for every light lookup. A close sends what is held first; past HELD_BYTES it is sent at once (a
    stream whose chunks come without a pause must not pile up here, out of the flow control's sight)."""

    HELD_BYTES = 65_536
    __slots__ = ("_transport", "_loop", "_held", "_size")

    def __init__(self, transport, loop):
        self._transport = transport
        self._loop = loop
        self._held: list | None = None
        self._size = 0

    def write(self, data) -> None:
        if self._held is None:
            self._held, self._size = [data], len(data)
            self._loop.call_soon(self._send)
        else:
            self._held.append(data)
            self._size += len(data)
        if self._size >= self.HELD_BYTES:
            self._send()

    def _send(self) -> None:
        held, self._held = self._held, None
        if not held or self._transport.is_closing():
            return
        if len(held) == 1:
            self._transport.write(held[0])
        else:
            self._transport.writelines(held)

    def close(self) -> None:
        self._send()
        self._transport.close()

    def __getattr__(self, name):
        return getattr(self._transport, name)


class GuardedProtocol(HttpToolsProtocol):
    """uvicorn's HTTP/1.1 protocol with the limits it lacks: a request must send its request line and
    headers within `header_timeout` seconds, in at most `max_header_bytes` bytes and `max_headers` headers.
    (Subclassed per settings by `protocol_for`.)"""

    settings: Settings

    def connection_made(self, transport) -> None:
        super().connection_made(OneSendPerTurn(transport, self.loop))
        self._await_headers()

    def _await_headers(self) -> None:
        self._header_bytes = self._header_count = 0
        self._reading_headers = True
        self._header_timer = self.loop.call_later(self.settings.header_timeout, self._headers_too_slow)

    def data_received(self, data: bytes) -> None:
        if self._reading_headers:
            end = data.find(b"\r\n\r\n")  # the headers' end, if in this chunk (the body may follow)
            if self._header_bytes + (len(data) if end < 0 else end) > self.settings.max_header_bytes:
                self._refuse(_refusal(431, "Request Header Fields Too Large", "headers_too_large",
                                      f"the request line and headers are over {self.settings.max_header_bytes} bytes"))
                return
            self._header_bytes += len(data)
        super().data_received(data)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._header_count += 1
        if self._header_count > self.settings.max_headers:
            self._refuse(_refusal(431, "Request Header Fields Too Large", "too_many_headers",
                                  f"the request has more than {self.settings.max_headers} headers"))
            return
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._reading_headers = False
        self._header_timer.cancel()
        super().on_headers_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._header_timer.cancel()
            self._await_headers()  # the next request on this connection has the same time for its headers

    def connection_lost(self, exc) -> None:
        self._header_timer.cancel()
        super().connection_lost(exc)

    def _headers_too_slow(self) -> None:
        if self._reading_headers and not self.transport.is_closing():
            if self._header_bytes:
                self._refuse(_refusal(408, "Request Timeout", "request_timeout",
                                      f"the request's headers took over {self.settings.header_timeout:g} s"))
            else:  # an idle connection: just close it
                self.transport.close()

    def _refuse(self, response: bytes) -> None:
        self._reading_headers = False
        self._header_timer.cancel()
        log.warning("refused a request from %s: %s", self.client, response.split(b"\r\n", 1)[0].decode())
        self.transport.write(response)
        self.transport.close()


def protocol_for(settings: Settings) -> type[GuardedProtocol]:
    return type("SwapgraphProtocol", (GuardedProtocol,), {"settings": settings})


def uvicorn_config(app, settings: Settings, **overrides) -> uvicorn.Config:
    """uvicorn's configuration for the app under these settings (also used by the tests' servers)."""
    options = {
        "host": settings.host, "port": settings.port, "http": protocol_for(settings), "server_header": False,
        "timeout_keep_alive": settings.keep_alive, "limit_concurrency": settings.max_connections or None,
        "log_level": "info", "access_log": False, **overrides,
    }
    return uvicorn.Config(app, **options)


def raise_open_files_limit(wanted: int) -> int:
    """Raise the soft limit of open files towards `wanted` (within the hard limit); the limit now."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if target > soft:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError):
            pass
    return soft


class _Server(uvicorn.Server):
    async def startup(self, sockets=None) -> None:
        await super().startup(sockets)
        # What start-up built (modules, the dataset's summary, warm caches) lives as long as the process:
        # kept out of the collector's sight, a full collection no longer walks it while /health waits.
        gc.freeze()


def serve(settings: Settings) -> None:
    """Serve on settings.host:settings.port until interrupted."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # every connection is a descriptor, and the query workers' pipes too
    limit = raise_open_files_limit(settings.max_connections * 2 + 256)
    log.info("open files limit: %d", limit)
    # the event loop waits for the GIL behind page threads at most this long (Python's default is 5 ms)
    sys.setswitchinterval(0.001)
    _Server(uvicorn_config(create_app(settings), settings)).run()


if __name__ == "__main__":
    serve(Settings.from_env())
