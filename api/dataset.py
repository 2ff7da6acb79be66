"""What the served dataset holds, read once at start-up: build time and triple counts per named graph."""

import json
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from api.executor import Executor
from api.results import SPARQL_JSON
from graph.summary import dump_path, read_summary

COUNT_NAMED = "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g ORDER BY ?g"
COUNT_DEFAULT = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"


@dataclass(frozen=True, eq=False)  # compared and hashed by identity: cached per instance
class DatasetInfo:
    build: str | None = None  # the build directory's name, None for an in-memory store
    built_at: str | None = None  # ISO 8601, UTC
    graphs: dict[str, int] = field(default_factory=dict)  # named graph IRI -> triples
    default_graph_triples: int = 0  # triples in the store's own default graph (normally none)
    summary: dict = field(default_factory=dict)  # the build's summary.json (graph.summary), {} without one
    dump: Path | None = None  # the build's N-Quads dump, streamed by /dumps

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


def _built_at(build_dir: Path) -> str:
    """When the build was made: its directory's name starts with the UTC time (graph.store), else its mtime."""
    try:
        stamp = datetime.strptime(build_dir.name.split("-")[0], "%Y%m%dT%H%M%S")
        return stamp.replace(tzinfo=timezone.utc).isoformat(timespec="seconds")
    except ValueError:
        mtime = build_dir.stat().st_mtime
        return datetime.fromtimestamp(mtime, timezone.utc).isoformat(timespec="seconds")


def read_dataset_info(executor: Executor, build_dir: Path | None) -> DatasetInfo:
    summary = read_summary(build_dir)
    if summary:  # counted at build time: start-up reads a file instead of counting the whole store
        return DatasetInfo(build=build_dir.name, built_at=_built_at(build_dir), graphs=summary["graph_triples"],
                           summary=summary, dump=dump_path(build_dir))
    named = {row["g"]["value"]: int(row["n"]["value"]) for row in _count_rows(executor, COUNT_NAMED, False)}
    default = _count_rows(executor, COUNT_DEFAULT, False)
    default_count = int(default[0]["n"]["value"]) if default else 0
    if build_dir is None:
        return DatasetInfo(graphs=named, default_graph_triples=default_count)
    return DatasetInfo(build=build_dir.name, built_at=_built_at(build_dir), graphs=named,
                       default_graph_triples=default_count)


def started_at() -> str:
    return datetime.fromtimestamp(time.time(), timezone.utc).isoformat(timespec="seconds")
