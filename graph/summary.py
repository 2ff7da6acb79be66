"""What a build says about itself, computed once at build time (summary.json) and read by the service."""

import json
from collections import Counter
from pathlib import Path

import pyoxigraph as ox

from graph.catalog import QUERIES_DIR, Catalog
from vocab import ID, SG, SPARQL_PREFIXES, Graphs

SUMMARY_NAME = "summary.json"  # counts computed once at build time (home page, VoID, /ontology), not per request
DUMP_NAME = "swapgraph.nq"  # every quad of the build, written once at build time for /dumps to stream

# The counts the linked-data pages show (api/linked_data.py Site.counts), over the union of the graphs.
CLASSES = "SELECT ?c (COUNT(DISTINCT ?x) AS ?n) WHERE { ?x a ?c } GROUP BY ?c"
PROPERTIES = "SELECT ?p (COUNT(*) AS ?n) WHERE { ?s ?p ?o } GROUP BY ?p"
TOTALS = ("SELECT (COUNT(*) AS ?triples) (COUNT(DISTINCT ?s) AS ?subjects) (COUNT(DISTINCT ?p) AS ?properties) "
          "(COUNT(DISTINCT ?o) AS ?objects) WHERE { GRAPH ?g { ?s ?p ?o } }")
DISTINCT = "SELECT (COUNT(*) AS ?n) WHERE { SELECT DISTINCT ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o } } }"
SUBJECTS = "SELECT DISTINCT ?s WHERE { GRAPH ?g { ?s ?p ?o } FILTER(isIRI(?s)) }"
GRAPHS = "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"
DOCUMENTS = ("SELECT ?d ?t ?f WHERE { ?d a sg:Document . OPTIONAL { ?d sg:title ?t } OPTIONAL { ?d sg:fileName ?f } } "
             "ORDER BY ?f")


# The home page's rows (api/site.py), as lexical values: classes with their instances (?record: typed
# only in the provenance graph, the graph's bookkeeping), triples per graph, the documents.
HOME_QUERIES = {
    # Counted per class first, then one NOT EXISTS per class (per instance, it was quadratic at 1M).
    "classes": f"""
        SELECT ?class ?classLabel ?n ?record WHERE {{
          {{ SELECT ?class (COUNT(DISTINCT ?s) AS ?n) WHERE {{
               ?s a ?class FILTER(STRSTARTS(STR(?class), "{SG._NS}")) }} GROUP BY ?class }}
          OPTIONAL {{ ?class rdfs:label ?classLabel }}
          BIND(NOT EXISTS {{ GRAPH ?g {{ ?any a ?class }} FILTER(?g != {Graphs.PROVENANCE.n3()}) }} AS ?record)
        }} ORDER BY ?record DESC(?n) ?class""",
    "graphs": "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g ORDER BY ?g",
    "documents": """
        SELECT ?doc (SAMPLE(?t) AS ?title) (SAMPLE(?k) AS ?kind) (SAMPLE(?pub) AS ?publisher)
               (SAMPLE(?a) AS ?author) (SAMPLE(?d) AS ?date) (SAMPLE(?f) AS ?file) (COUNT(DISTINCT ?ev) AS ?quotes)
        WHERE {
          ?doc a sg:Document .
          OPTIONAL { ?doc sg:title ?t } OPTIONAL { ?doc sg:documentKind ?k } OPTIONAL { ?doc sg:publisher ?pub }
          OPTIONAL { ?doc sg:author ?a } OPTIONAL { ?doc sg:publicationDate ?d } OPTIONAL { ?doc sg:fileName ?f }
          OPTIONAL { ?ev sg:document ?doc }
        } GROUP BY ?doc ORDER BY ?file""",
}


# What the exchange timeline, the exchange pages and the maps read (api/site.py builds them from these
# rows), as lexical values: exchanges and legs with dates and venues, their parties and mediators, the
# releases done in them, the places the map can show, and the events at a venue with the states in them.
TIMELINE_QUERIES = {
    "exchanges": """
        SELECT DISTINCT ?x ?xLabel ?date ?start ?end ?whole ?venue ?venueLabel WHERE {
          ?x a sg:Exchange .
          OPTIONAL { ?x rdfs:label ?xLabel }
          OPTIONAL { ?x sg:date ?date } OPTIONAL { ?x sg:startDate ?start } OPTIONAL { ?x sg:endDate ?end }
          OPTIONAL { ?x sg:partOf ?whole }
          OPTIONAL { ?x sg:venue ?venue OPTIONAL { ?venue rdfs:label ?venueLabel } }
        }""",
    "roles": """
        SELECT DISTINCT ?x ?p ?o ?oLabel WHERE {
          VALUES ?p { sg:party sg:mediatedBy }
          ?x a sg:Exchange ; ?p ?o .
          OPTIONAL { ?o rdfs:label ?oLabel }
        }""",
    "releases": """
        SELECT DISTINCT ?x ?r ?person ?personLabel ?group ?groupLabel ?count ?by ?byLabel ?to ?toLabel WHERE {
          ?x a sg:Exchange .
          ?r sg:inExchange ?leg . ?leg sg:partOf? ?x .  # the exchange or one of its legs (no UNION: Virtuoso 7.2)
          ?r sg:status sg:done .
          OPTIONAL { ?r sg:releasedPerson ?person OPTIONAL { ?person rdfs:label ?personLabel } }
          OPTIONAL { ?r sg:releasedGroup ?group OPTIONAL { ?group rdfs:label ?groupLabel }
                     OPTIONAL { ?group sg:count ?count } }
          OPTIONAL { ?r sg:releasingState ?by OPTIONAL { ?by rdfs:label ?byLabel } }
          OPTIONAL { ?r sg:receivingState ?to OPTIONAL { ?to rdfs:label ?toLabel } }
        }""",
    "places": """
        PREFIX geo: <http://www.w3.org/2003/01/geo/wgs84_pos#>
        SELECT DISTINCT ?s ?kind ?label ?name ?iso ?lat ?lon ?within WHERE {
          { ?s a sg:State BIND("state" AS ?kind) } UNION { ?s a sg:Venue BIND("venue" AS ?kind) }
          UNION { [] sg:venue ?s BIND("venue" AS ?kind) } UNION { ?s a sg:Place BIND("place" AS ?kind) }
          OPTIONAL { ?s rdfs:label ?label } OPTIONAL { ?s skos:altLabel ?name } OPTIONAL { ?s sg:isoCode ?iso }
          OPTIONAL { ?s geo:lat ?lat ; geo:long ?lon } OPTIONAL { ?s sg:locatedIn ?within . ?within a sg:State }
        }""",
    "event_places": """
        SELECT DISTINCT ?e ?venue ?state WHERE {
          { ?e sg:venue ?venue BIND(?e AS ?part) } UNION { ?part sg:partOf ?e ; sg:venue ?venue }
          OPTIONAL { VALUES ?role { sg:party sg:participant sg:mediatedBy } ?part ?role ?state . ?state a sg:State }
        }""",
}


# For each sg property, the kinds of object it has: "iri" or a datatype IRI (the JSON-LD context's
# coercions, api/linked_data.py build_context): one pass over every triple, so made at build time.
DATATYPES = (f'SELECT DISTINCT ?p ?k WHERE {{ ?s ?p ?o FILTER(STRSTARTS(STR(?p), "{SG._NS}")) '
             'BIND(IF(isLiteral(?o), STR(DATATYPE(?o)), "iri") AS ?k) }')


def datatypes(rows) -> dict[str, list[str]]:
    """{property: sorted kinds} from the rows of DATATYPES (lexical values)."""
    kinds: dict[str, set[str]] = {}
    for row in rows:
        kinds.setdefault(str(row["p"]), set()).add(str(row["k"]))
    return {p: sorted(k) for p, k in sorted(kinds.items())}


def _served_dataset(store: ox.Store) -> dict:
    """The dataset the service's queries see (api/executor.py): the union of the named graphs as the
    default graph, the extractor's unreviewed candidates left out of it."""
    names = list(store.named_graphs())
    candidates = ox.NamedNode(str(Graphs.CANDIDATES))
    if candidates not in names:
        return {"use_default_graph_as_union": True}
    return {"default_graph": [g for g in names if g != candidates], "named_graphs": names}


def _solutions(store: ox.Store, query: str):
    return store.query(SPARQL_PREFIXES + query, **_served_dataset(store))


def _rows(store: ox.Store, query: str) -> list[dict]:
    solutions = _solutions(store, query)
    names = [v.value for v in solutions.variables]
    return [{name: row[name].value for name in names if row[name] is not None} for row in solutions]


def allowed_lists(store: ox.Store, catalog: Catalog) -> dict[str, list]:
    """The values each canned-question parameter may take (graph.catalog `allowed: …` headers), by the
    text of its allowed-values query: [value as N-Triples, label, aliases] (Catalog.saved_values)."""
    def run(query: str) -> list[dict]:
        solutions = store.query(query, **_served_dataset(store))
        names = [v.value for v in solutions.variables]
        return [{name: row[name] for name in names if row[name] is not None} for row in solutions]

    lists = {}
    for query in catalog:
        for param in query.params:
            if param.allowed_query is not None and param.allowed_query not in lists:
                lists[param.allowed_query] = [[str(v.term), v.label, list(v.aliases)]
                                              for v in catalog.graph_values(param, run)]
    return lists


def entity_kinds(store: ox.Store) -> Counter:
    """How many subjects under id/ each kind (the first path segment: exchange, person, ...) has; one
    pass over the distinct subjects, where string functions in SPARQL would run once per triple."""
    kinds: Counter = Counter()
    base = str(ID)
    for row in store.query(SUBJECTS):
        iri = row[0].value
        if iri.startswith(base):
            kind, slash, _ = iri[len(base):].partition("/")
            kinds[kind if slash and kind else None] += 1
    return kinds


def derived_counts(inference) -> dict[str, dict[str, int]]:
    """Inferred triples per predicate and rule, as the engine counted them while recording derivations."""
    derived: dict[str, dict[str, int]] = {}
    for (predicate, rule), n in sorted(inference.per_predicate_rule.items()) if inference else ():
        derived.setdefault(predicate, {})[rule] = n
    return derived


def store_counts(store: ox.Store, kinds: Counter | None = None, derived: dict | None = None) -> dict:
    """Instances per class, uses per property, derivations per rule and predicate, totals, documents:
    the same figures, under the same keys, as the service's Site.counts computes over its store."""
    kinds = kinds if kinds is not None else entity_kinds(store)
    totals = _rows(store, TOTALS)[0]
    return {
        "classes": {row["c"]: int(row["n"]) for row in _rows(store, CLASSES)},
        "properties": {row["p"]: int(row["n"]) for row in _rows(store, PROPERTIES)},
        "derived": derived or {},
        "graphs": {row["g"]: int(row["n"]) for row in _rows(store, GRAPHS)},
        "quads": int(totals["triples"]), "triples": int(_rows(store, DISTINCT)[0]["n"]),
        "subjects": int(totals["subjects"]), "objects": int(totals["objects"]),
        "property_count": int(totals["properties"]), "entities": sum(kinds.values()),
        "documents": [(row["d"], row.get("t"), row.get("f")) for row in _rows(store, DOCUMENTS)],
    }


def summarize(store: ox.Store, report) -> dict:
    """The summary of a finished build: the report's figures and the counts the pages show."""
    inference = report.inference
    kinds = entity_kinds(store)
    counts = store_counts(store, kinds, derived_counts(inference))
    return {"documents": report.documents, "facts": report.facts, "graphs": report.graph_sizes,
            "classes": report.class_counts,
            "inferred": inference.inferred if inference else 0,
            "by_rule": dict(sorted(inference.per_rule.items())) if inference else {},
            "graph_triples": counts["graphs"], "counts": counts,
            "home": {name: _rows(store, query) for name, query in HOME_QUERIES.items()},
            "timeline": {name: _rows(store, query) for name, query in TIMELINE_QUERIES.items()},
            "allowed": allowed_lists(store, Catalog.load(QUERIES_DIR)),
            "datatypes": datatypes(_rows(store, DATATYPES)),
            "kinds": {kind: n for kind, n in sorted(kinds.items()) if kind is not None},
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
