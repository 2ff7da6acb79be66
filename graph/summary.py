"""What a build says about itself, computed once at build time (summary.json) and read by the service."""

import json
from pathlib import Path

import pyoxigraph as ox

from vocab import ID, SPARQL_PREFIXES

SUMMARY_NAME = "summary.json"  # counts computed once at build time (home page, VoID, /ontology), not per request
DUMP_NAME = "swapgraph.nq"  # every quad of the build, written once at build time for /dumps to stream

# The counts the linked-data pages show (api/linked_data.py Site.counts), over the union of the graphs.
CLASSES = "SELECT ?c (COUNT(DISTINCT ?x) AS ?n) WHERE { ?x a ?c } GROUP BY ?c"
PROPERTIES = "SELECT ?p (COUNT(*) AS ?n) WHERE { ?s ?p ?o } GROUP BY ?p"
DERIVED = ("SELECT ?p ?rule (COUNT(*) AS ?n) WHERE { ?st sg:derivation ?d ; rdf:predicate ?p . ?d sg:rule ?rule } "
           "GROUP BY ?p ?rule")
TOTALS = ("SELECT (COUNT(*) AS ?triples) (COUNT(DISTINCT ?s) AS ?subjects) (COUNT(DISTINCT ?p) AS ?properties) "
          "(COUNT(DISTINCT ?o) AS ?objects) WHERE { GRAPH ?g { ?s ?p ?o } }")
DISTINCT = "SELECT (COUNT(*) AS ?n) WHERE { SELECT DISTINCT ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o } } }"
ENTITIES = f'SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE {{ GRAPH ?g {{ ?s ?p ?o }} FILTER(STRSTARTS(STR(?s), "{ID}")) }}'
GRAPHS = "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"
DOCUMENTS = ("SELECT ?d ?t ?f WHERE { ?d a sg:Document . OPTIONAL { ?d sg:title ?t } OPTIONAL { ?d sg:fileName ?f } } "
             "ORDER BY ?f")
# The kinds of IRI under id/ (exchange, person, ...) with how many of each (the /id/ index).
KINDS = (f'SELECT ?kind (COUNT(DISTINCT ?s) AS ?n) WHERE {{ ?s ?p ?o FILTER(STRSTARTS(STR(?s), "{ID}")) '
         f'BIND(STRBEFORE(STRAFTER(STR(?s), "{ID}"), "/") AS ?kind) FILTER(?kind != "") }} GROUP BY ?kind')


def _rows(store: ox.Store, query: str) -> list[dict]:
    solutions = store.query(SPARQL_PREFIXES + query, use_default_graph_as_union=True)
    names = [v.value for v in solutions.variables]
    return [{name: row[name].value for name in names if row[name] is not None} for row in solutions]


def store_counts(store: ox.Store) -> dict:
    """Instances per class, uses per property, derivations per rule and predicate, totals, documents:
    the same figures, under the same keys, as the service's Site.counts computes over its store."""
    derived: dict[str, dict[str, int]] = {}
    for row in _rows(store, DERIVED):
        derived.setdefault(row["p"], {})[row["rule"]] = int(row["n"])
    totals = _rows(store, TOTALS)[0]
    return {
        "classes": {row["c"]: int(row["n"]) for row in _rows(store, CLASSES)},
        "properties": {row["p"]: int(row["n"]) for row in _rows(store, PROPERTIES)},
        "derived": derived,
        "graphs": {row["g"]: int(row["n"]) for row in _rows(store, GRAPHS)},
        "quads": int(totals["triples"]), "triples": int(_rows(store, DISTINCT)[0]["n"]),
        "subjects": int(totals["subjects"]), "objects": int(totals["objects"]),
        "property_count": int(totals["properties"]), "entities": int(_rows(store, ENTITIES)[0]["n"]),
        "documents": [(row["d"], row.get("t"), row.get("f")) for row in _rows(store, DOCUMENTS)],
    }


def store_kinds(store: ox.Store) -> dict[str, int]:
    return {row["kind"]: int(row["n"]) for row in _rows(store, KINDS)}


def summarize(store: ox.Store, report) -> dict:
    """The summary of a finished build: the report's figures and the counts the pages show."""
    inference = report.inference
    counts = store_counts(store)
    return {"documents": report.documents, "facts": report.facts, "graphs": report.graph_sizes,
            "classes": report.class_counts,
            "inferred": inference.inferred if inference else 0,
            "by_rule": dict(sorted(inference.per_rule.items())) if inference else {},
            "graph_triples": counts["graphs"], "counts": counts, "kinds": store_kinds(store),
            "dump": DUMP_NAME}


def write_summary(build_dir: Path, summary: dict) -> None:
    (build_dir / SUMMARY_NAME).write_text(json.dumps(summary, indent=1, ensure_ascii=False), encoding="utf-8")


def read_summary(build_dir: Path | None) -> dict:
    """A build's summary; empty for no build folder or a build made before summaries held counts."""
    if build_dir is None:
        return {}
    try:
        summary = json.loads((build_dir / SUMMARY_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return summary if "counts" in summary else {}


def dump_path(build_dir: Path | None) -> Path | None:
    """The build's N-Quads dump, if it has one."""
    if build_dir is None or not (build_dir / DUMP_NAME).is_file():
        return None
    return build_dir / DUMP_NAME
