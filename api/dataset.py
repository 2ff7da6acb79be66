"""What the served dataset holds (build time and triple counts per named graph, read once per version)
and which store backend it is read from (graph.backends, chosen by settings)."""

import json
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from api.executor import Executor
from api.results import SPARQL_JSON
from graph.backends import Version, open_backend

COUNT_NAMED = "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g ORDER BY ?g"
COUNT_DEFAULT = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"


@dataclass(frozen=True, eq=False)  # compared and hashed by identity: cached per instance
class DatasetInfo:
    build: str | None = None  # the build directory's name, None for an in-memory store
    built_at: str | None = None  # ISO 8601, UTC
    graphs: dict[str, int] = field(default_factory=dict)  # named graph IRI -> triples
    default_graph_triples: int = 0  # triples in the store's own default graph (normally none)
    summary: dict = field(default_factory=dict)  # the build's summary.json (graph.summary), {} without one
    dump: object = None  # the build's N-Quads dump (`open("rb")`: a file, or a stream from a remote engine)

    @property
    def triples(self) -> int:
        return sum(self.graphs.values()) + self.default_graph_triples

    def as_json(self) -> dict:
        return {
            "build": self.build,
            "built_at": self.built_at,
            "triples": self.triples,
            "graphs": self.graphs,
            "default_graph_triples": self.default_graph_triples,
        }


def _count_rows(executor: Executor, query: str, union: bool) -> list[dict]:
    result = executor.run(query, result_format=SPARQL_JSON, union_default_graph=union, timeout=300.0)
    return json.loads(result.body)["results"]["bindings"]


def read_dataset_info(executor: Executor, version: Version | None) -> DatasetInfo:
    summary = version.reader.summary() if version is not None else {}
    if summary:  # counted at build time, published with the build: read once, never counted per request
        return DatasetInfo(build=version.name, built_at=version.built_at, graphs=summary["graph_triples"],
                           summary=summary, dump=version.reader.dump())
    named = {row["g"]["value"]: int(row["n"]["value"]) for row in _count_rows(executor, COUNT_NAMED, False)}
    default = _count_rows(executor, COUNT_DEFAULT, False)
    default_count = int(default[0]["n"]["value"]) if default else 0
    if version is None:
        return DatasetInfo(graphs=named, default_graph_triples=default_count)
    return DatasetInfo(build=version.name, built_at=version.built_at, graphs=named,
                       default_graph_triples=default_count, dump=version.reader.dump())


def backend_for(settings):
    """The store backend the settings name: embedded under data_dir, or a remote engine's endpoint."""
    endpoint = None
    if settings.store == "remote":
        from graph.backends.remote import Endpoint

        password = settings.remote_password
        if settings.remote_password_file:
            password = Path(settings.remote_password_file).read_text(encoding="utf-8").splitlines()[0].strip()
        urls = {"query_url": settings.remote_query_url, "update_url": settings.remote_update_url,
                "graph_store_url": settings.remote_graph_store_url}
        options = {"user": settings.remote_user, "password": password, "timeout": settings.query_timeout + 1,
                   "dataset": settings.remote_dataset}
        if settings.remote_url:
            endpoint = Endpoint.at(settings.remote_url, settings.remote_engine, **urls, **options)
        elif settings.remote_query_url:
            endpoint = Endpoint(engine=settings.remote_engine, **urls, **options)
    return open_backend(settings.store, settings.data_dir, endpoint)


def started_at() -> str:
    return datetime.fromtimestamp(time.time(), timezone.utc).isoformat(timespec="seconds")
