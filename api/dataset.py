"""What the served dataset holds, read once at start-up: build time and triple counts per named graph."""

import json
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from api.executor import Executor
from api.results import SPARQL_JSON

COUNT_NAMED = "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g ORDER BY ?g"
COUNT_DEFAULT = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
BUILD_INFO_FILES = ("build.json", "manifest.json")


@dataclass(frozen=True, eq=False)  # compared and hashed by identity: cached per instance
class DatasetInfo:
    build: str | None = None  # the build directory's name, None for an in-memory store
    built_at: str | None = None  # ISO 8601, UTC
    graphs: dict[str, int] = field(default_factory=dict)  # named graph IRI -> triples
    default_graph_triples: int = 0  # triples in the store's own default graph (normally none)
    build_info: dict = field(default_factory=dict)  # the build's own metadata file, when it wrote one

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
            **({"build_info": self.build_info} if self.build_info else {}),
        }


def _count_rows(executor: Executor, query: str, union: bool) -> list[dict]:
    result = executor.run(query, result_format=SPARQL_JSON, union_default_graph=union, timeout=300.0)
    return json.loads(result.body)["results"]["bindings"]


def _built_at(build_dir: Path) -> str:
    try:
        stamp = datetime.strptime(build_dir.name.split("-")[0], "%Y%m%dT%H%M%S")
        local = stamp.replace(tzinfo=datetime.now().astimezone().tzinfo)
        return local.astimezone(timezone.utc).isoformat(timespec="seconds")
    except ValueError:
        mtime = build_dir.stat().st_mtime
        return datetime.fromtimestamp(mtime, timezone.utc).isoformat(timespec="seconds")


def _build_info(build_dir: Path) -> dict:
    for name in BUILD_INFO_FILES:
        path = build_dir / name
        if path.is_file():
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                return {}
            return data if isinstance(data, dict) else {}
    return {}


def read_dataset_info(executor: Executor, build_dir: Path | None) -> DatasetInfo:
    named = {row["g"]["value"]: int(row["n"]["value"]) for row in _count_rows(executor, COUNT_NAMED, False)}
    default = _count_rows(executor, COUNT_DEFAULT, False)
    default_count = int(default[0]["n"]["value"]) if default else 0
    if build_dir is None:
        return DatasetInfo(graphs=named, default_graph_triples=default_count)
    info = _build_info(build_dir)
    built_at = info.get("built_at") or info.get("build_time") or _built_at(build_dir)
    return DatasetInfo(
        build=build_dir.name, built_at=str(built_at), graphs=named,
        default_graph_triples=default_count, build_info=info,
    )


def started_at() -> str:
    return datetime.fromtimestamp(time.time(), timezone.utc).isoformat(timespec="seconds")
