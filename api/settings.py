"""Service settings: one dataclass, read from `SWAPGRAPH_*` environment variables only when asked."""

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from urllib.parse import urlsplit

ENV_PREFIX = "SWAPGRAPH_"


@dataclass(frozen=True)
class Settings:
    """Everything the service can be told; every field is documented in the README service section."""

    data_dir: Path = Path("data")  # the graph build directory; the service reads <data_dir>/current
    host: str = "127.0.0.1"  # interface uvicorn binds
    port: int = 8000  # port uvicorn binds
    query_timeout: float = 10.0  # seconds a query may run before its worker is killed (503)
    max_rows: int = 10_000  # result rows (or triples) beyond which a result is cut and flagged
    max_body_bytes: int = 1_048_576  # largest POST body accepted (413 beyond)
    max_query_length: int = 100_000  # longest query text accepted, in characters (413 beyond)
    max_nesting_depth: int = 64  # deepest nesting of { ( [ accepted before parsing (400 beyond)
    max_query_terms: int = 2000  # terms and operators a query may have, counted before parsing (400 beyond)
    workers: int = 4  # warm query worker processes: the number of queries evaluated at once
    light_workers: int = 1  # of those, kept for pages and canned questions: /sparql never holds them all
    page_threads: int = 4  # pages and canned questions rendered at once (threads); the rest wait their turn
    queue_wait: float = 2.0  # seconds a query waits for a free worker when its client has another in flight (429)
    overload_wait: float = 30.0  # seconds a client's only query, a page or a canned question waits (503 after)
    worker_memory_mb: int = 2048  # address space a query worker may use (0: no cap); past it a 503
    inline_query_ms: float = 2.0  # a query a worker answered within this CPU time is answered in the HTTP process next time (0: never)
    client_max_queries: int = 2  # queries one client may run at once (0: no cap); beyond, 429
    client_query_seconds: float = 60.0  # query-seconds one client may spend in a burst (0: no cap); then 429
    client_window: float = 60.0  # seconds over which a client's query-seconds come back in full
    client_header: str = ""  # header naming the client (e.g. X-Forwarded-For), read only from trusted_proxies
    trusted_proxies: tuple[str, ...] = field(default=())  # proxy addresses whose client_header is believed
    public_hosts: tuple[str, ...] = field(default=())  # Host values it may name itself by, if no public_base_url
    max_header_bytes: int = 65_536  # request line and headers, in bytes (431 beyond)
    max_headers: int = 100  # headers per request (431 beyond)
    header_timeout: float = 10.0  # seconds a client has to send its request line and headers (408 after)
    keep_alive: float = 5.0  # seconds an idle keep-alive connection stays open
    max_connections: int = 2048  # connections and requests at once; beyond, uvicorn answers 503
    cache_control: str = "public, max-age=5"  # Cache-Control of GET answers (each has an ETag: revalidate after)
    reload_interval: float = 2.0  # seconds between looks for a new <data_dir>/current build (0: never)
    cors_origins: tuple[str, ...] = field(default=())  # origins allowed by CORS; empty: CORS off
    review: bool = False  # serve /review, which writes annotation files: only with a loopback host
    public_base_url: str = ""  # scheme://host[:port] people reach it at: when set, the only name it uses
    queries_dir: Path = Path(__file__).resolve().parent.parent / "queries"  # canned questions, parsed at start-up
    store: str = "embedded"  # where the graph lives: embedded (pyoxigraph under data_dir) or remote (an engine's endpoint)
    remote_engine: str = "standard"  # the remote engine's quirks: standard, oxigraph or virtuoso (graph.backends)
    remote_url: str = ""  # the engine's base URL: its usual query, update and graph-store URLs under it
    remote_query_url: str = ""  # SPARQL 1.1 Protocol query URL (overrides the one under remote_url)
    remote_update_url: str = ""  # SPARQL 1.1 Update URL, for publishing (overrides the one under remote_url)
    remote_graph_store_url: str = ""  # Graph Store HTTP Protocol URL, for publishing; empty: INSERT DATA
    remote_user: str = ""  # user for the engine (basic auth; digest for virtuoso)
    remote_password: str = field(default="", repr=False)  # never logged nor printed; prefer remote_password_file
    remote_password_file: str = ""  # a file holding the password (first line), read at start-up
    remote_dataset: str = "swapgraph"  # this dataset's name on the engine (several datasets can share one engine)

    def __post_init__(self) -> None:
        if self.public_base_url:
            parts = urlsplit(self.public_base_url)
            if parts.scheme not in ("http", "https") or not parts.netloc or parts.path not in ("", "/") \
                    or parts.query or parts.fragment:
                raise ValueError(f"{ENV_PREFIX}PUBLIC_BASE_URL={self.public_base_url!r}: must be scheme://host[:port] "
                                 "(http or https, no path: the service answers at its root)")
            if self.public_hosts and parts.netloc.lower() not in {h.lower() for h in self.public_hosts}:
                raise ValueError(f"{ENV_PREFIX}PUBLIC_HOSTS={','.join(self.public_hosts)!r} does not hold the host of "
                                 f"{ENV_PREFIX}PUBLIC_BASE_URL ({parts.netloc}): with a base URL set the service "
                                 "always names itself by it; leave PUBLIC_HOSTS empty or include that host")

    @property
    def public_origin(self) -> tuple[str, str] | None:
        """(scheme, host[:port]) of public_base_url, or None when it is not set."""
        if not self.public_base_url:
            return None
        parts = urlsplit(self.public_base_url)
        return parts.scheme, parts.netloc.lower()

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "Settings":
        """Settings from `SWAPGRAPH_<FIELD>` variables (e.g. SWAPGRAPH_QUERY_TIMEOUT=5); others keep defaults."""
        environ = os.environ if environ is None else environ
        values = {}
        for f in fields(cls):
            raw = environ.get(ENV_PREFIX + f.name.upper())
            if raw is None or raw.strip() == "":
                continue
            values[f.name] = _convert(f.name, f.default, raw.strip())
        return cls(**values)

    @classmethod
    def env_names(cls) -> dict[str, str]:
        """Field name -> environment variable name."""
        return {f.name: ENV_PREFIX + f.name.upper() for f in fields(cls)}


def _convert(name: str, default: object, raw: str) -> object:
    try:
        if isinstance(default, Path):
            return Path(raw)
        if isinstance(default, tuple):
            return tuple(part.strip() for part in raw.split(",") if part.strip())
        if isinstance(default, bool):
            return raw.lower() in {"1", "true", "yes", "on"}
        if isinstance(default, int):
            return int(raw)
        if isinstance(default, float):
            return float(raw)
    except ValueError as exc:
        raise ValueError(f"{ENV_PREFIX}{name.upper()}={raw!r}: {exc}") from None
    return raw
