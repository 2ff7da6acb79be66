"""What a build says about itself, computed once at build time (summary.json and its parts) and read by the service."""

import gc
import json
from pathlib import Path

import pyoxigraph as ox

from graph.catalog import QUERIES_DIR, Catalog, allowed_query
from vocab import ID, SG, SPARQL_PREFIXES, Graphs

SUMMARY_NAME = "summary.json"  # counts computed once at build time (home page, VoID, /ontology), not per request
DUMP_NAME = "swapgraph.nq"  # every quad of the build, written once at build time for /dumps to stream
# The summary's large parts, each in a file of its own beside summary.json, read by the service only when a
# page needs them: summary.json stays a few kilobytes however large the graph (the service holds it).
PART_NAMES = {"timeline": "timeline.json", "allowed": "allowed.json", "labels": "labels.json"}
INDEX_NAME = "index-{kind}.jsonl"  # the /id/{kind}/ index, by label: one JSON line per page
INDEX_PAGE = 2000  # entries on one /id/{kind}/ page; the summary holds where each page starts in the file
HOME_DOCUMENTS = 100  # documents the home page lists (the rest on /id/document/)

# The counts the linked-data pages show (api/linked_data.py Site.counts), over the union of the graphs.
CLASSES = "SELECT ?c (COUNT(DISTINCT ?x) AS ?n) WHERE { ?x a ?c } GROUP BY ?c"
# One pass over every quad, by graph, property and the object's datatype (unbound: an IRI or a blank
# node): the triples per graph, the uses and kinds of object per property, and the property count.
GRAPH_PROPERTIES = ("SELECT ?g ?p ?k (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } BIND(DATATYPE(?o) AS ?k) } "
                    "GROUP BY ?g ?p ?k")
SUBJECTS = "SELECT DISTINCT ?s WHERE { GRAPH ?g { ?s ?p ?o } }"
OBJECTS = "SELECT (COUNT(DISTINCT ?o) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"
# The triples of a property in a graph that no graph before it holds (its graphs by its triples in them,
# most first): added up, the distinct triples. Only a property found in several graphs is looked up.
NEW_IN_GRAPH = ("SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH {graph} {{ ?s {p} ?o }} "
                "FILTER NOT EXISTS {{ VALUES ?h {{ {earlier} }} GRAPH ?h {{ ?s {p} ?o }} }} }}")
GRAPHS = "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g ORDER BY ?g"
LABELS = "SELECT ?x ?l WHERE { ?x rdfs:label ?l FILTER(isIRI(?x)) }"
GRAPH_CLASSES = "SELECT ?g ?c (COUNT(DISTINCT ?x) AS ?n) WHERE { GRAPH ?g { ?x a ?c } } GROUP BY ?g ?c"
GRAPH_CLASSES_SHOWN = 30  # classes a named graph's page lists, most used first
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
    "graphs": GRAPHS,
    "documents": f"""
        SELECT ?doc (SAMPLE(?t) AS ?title) (SAMPLE(?k) AS ?kind) (SAMPLE(?pub) AS ?publisher)
               (SAMPLE(?a) AS ?author) (SAMPLE(?d) AS ?date) (SAMPLE(?f) AS ?file) (COUNT(DISTINCT ?ev) AS ?quotes)
        WHERE {{
          ?doc a sg:Document .
          OPTIONAL {{ ?doc sg:title ?t }} OPTIONAL {{ ?doc sg:documentKind ?k }} OPTIONAL {{ ?doc sg:publisher ?pub }}
          OPTIONAL {{ ?doc sg:author ?a }} OPTIONAL {{ ?doc sg:publicationDate ?d }} OPTIONAL {{ ?doc sg:fileName ?f }}
          OPTIONAL {{ ?ev sg:document ?doc }}
        }} GROUP BY ?doc ORDER BY ?file LIMIT {HOME_DOCUMENTS}""",
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


# The rows of TIMELINE_QUERIES["roles"] and ["releases"], joined here from one lookup per property: as
# SPARQL (a zero-or-one path, nested OPTIONALs) they took 0.2-0.3 s at 100k and 11.5-12.2 s at 1M.
EXCHANGES = "SELECT ?x WHERE { ?x a sg:Exchange }"
PAIRS = "SELECT ?s ?o WHERE {{ ?s {p} ?o }}"
DONE = "SELECT ?r ?leg WHERE { ?r sg:status sg:done ; sg:inExchange ?leg }"


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


def _pairs(store: ox.Store, curie: str) -> dict[str, list[str]]:
    """{subject: [objects]} of one property, as lexical values."""
    found: dict[str, list[str]] = {}
    for row in _solutions(store, PAIRS.format(p=curie)):
        found.setdefault(row["s"].value, []).append(row["o"].value)
    return found


def _labelled(iri: str | None, names: dict[str, list[str]]) -> list[tuple]:
    """(iri, label) for each label of the IRI ((iri, None) without one): an OPTIONAL label's rows."""
    return [(iri, label) for label in names.get(iri, [None])] if iri is not None else [(None, None)]


def _row(pairs) -> dict:
    return {name: value for name, value in pairs if value is not None}


def timeline(store: ox.Store, names: dict[str, list[str]]) -> dict[str, list[dict]]:
    """The rows of every TIMELINE_QUERIES query (the same rows, sorted); `names`: every label of each IRI."""
    # sorted: a DISTINCT's rows come in an order that differs from one run to the next on one store
    rows = {name: _sorted_rows(_rows(store, query)) for name, query in TIMELINE_QUERIES.items()
            if name not in ("roles", "releases")}
    exchanges = {row["x"].value for row in _solutions(store, EXCHANGES)}
    roles = set()
    for curie, iri in (("sg:party", str(SG.party)), ("sg:mediatedBy", str(SG.mediatedBy))):
        for x, objects in _pairs(store, curie).items():
            if x in exchanges:
                roles |= {(x, iri, o, label) for o in objects for _, label in _labelled(o, names)}
    rows["roles"] = [_row(zip(("x", "p", "o", "oLabel"), r)) for r in sorted(roles, key=_sort_key)]
    rows["releases"] = _releases(store, exchanges, names)
    return rows


def _sort_key(values: tuple) -> tuple:
    return tuple((v is not None, v or "") for v in values)


def _sorted_rows(rows: list[dict]) -> list[dict]:
    names = sorted({name for row in rows for name in row})
    return sorted(rows, key=lambda row: _sort_key(tuple(row.get(name) for name in names)))


def _releases(store: ox.Store, exchanges: set[str], names: dict[str, list[str]]) -> list[dict]:
    """TIMELINE_QUERIES["releases"]: each done release in an exchange or one of its legs, with each of
    its people, groups (and their counts), releasing and receiving states, and their labels."""
    part_of = _pairs(store, "sg:partOf")
    person, group, by, to, count = (_pairs(store, curie) for curie in (
        "sg:releasedPerson", "sg:releasedGroup", "sg:releasingState", "sg:receivingState", "sg:count"))
    found = set()
    for row in _solutions(store, DONE):
        r, leg = row["r"].value, row["leg"].value
        for x in {leg, *part_of.get(leg, ())} & exchanges:
            people = [pl for p in person.get(r, [None]) for pl in _labelled(p, names)]
            groups = [(g, gl, c) for g in group.get(r, [None]) for _, gl in _labelled(g, names)
                      for c in (count.get(g, [None]) if g is not None else [None])]
            bys = [bl for b in by.get(r, [None]) for bl in _labelled(b, names)]
            tos = [tl for t in to.get(r, [None]) for tl in _labelled(t, names)]
            found |= {(x, r, *p, *g, *b, *t) for p in people for g in groups for b in bys for t in tos}
    names_of = ("x", "r", "person", "personLabel", "group", "groupLabel", "count", "by", "byLabel", "to", "toLabel")
    return [_row(zip(names_of, values)) for values in sorted(found, key=_sort_key)]


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


ALIASES = "SELECT ?x ?alias WHERE { ?x skos:altLabel|sg:isoCode ?alias FILTER(isIRI(?x)) }"


def allowed_lists(store: ox.Store, catalog: Catalog, every_label: dict[str, list] | None = None) -> dict[str, list]:
    """The values each canned-question parameter may take (graph.catalog `allowed: …` headers), by the
    text of its allowed-values query: [value as N-Triples, label, aliases] (Catalog.saved_values).

    A query made by graph.catalog.allowed_query runs as its inner SELECT only, DISTINCT, the labels and
    aliases joined here from one pass each: with its two OPTIONALs, Oxigraph took 1.0 s at 100k and
    34.8 s at 1M for the 24 lists."""
    every_label = every_label if every_label is not None else all_labels(store)
    aliases: dict[str, list] = {}
    for row in _solutions(store, ALIASES):
        aliases.setdefault(row["x"].value, []).append(row["alias"])

    def run(query: str) -> list[dict]:
        inner = _inner_select(query)
        if inner is None:  # not made by allowed_query: run as it is
            solutions = store.query(query, **_served_dataset(store))
            names = [v.value for v in solutions.variables]
            return [{name: row[name] for name in names if row[name] is not None} for row in solutions]
        rows = []
        for row in store.query(SPARQL_PREFIXES + f"SELECT DISTINCT ?value WHERE {{ {{ {inner} }} }}",
                               **_served_dataset(store)):
            value = row["value"]
            if value is None:
                continue
            rows.append({"value": value})
            if isinstance(value, ox.NamedNode):
                rows += [{"value": value, "label": label} for label in every_label.get(value.value, ())]
                rows += [{"value": value, "alias": alias} for alias in aliases.get(value.value, ())]
        return rows

    lists = {}
    for query in catalog:
        for param in query.params:
            if param.allowed_query is not None and param.allowed_query not in lists:
                lists[param.allowed_query] = [[str(v.term), v.label, list(v.aliases)]
                                              for v in catalog.graph_values(param, run)]
    return lists


_ALLOWED_HEAD, _ALLOWED_TAIL = allowed_query("\0").split("\0")


def _inner_select(query: str) -> str | None:
    """The `SELECT ?value WHERE {…}` that graph.catalog.allowed_query wrapped, None for another query."""
    if query.startswith(_ALLOWED_HEAD) and query.endswith(_ALLOWED_TAIL):
        return query[len(_ALLOWED_HEAD):len(query) - len(_ALLOWED_TAIL)]
    return None


def subjects(store: ox.Store) -> tuple[int, dict[str | None, list[str]]]:
    """How many distinct subjects the named graphs have, and those under id/ by kind (the first path
    segment: exchange, person, ...; None: not under a kind's folder): one pass over the distinct
    subjects, where string functions in SPARQL would run once per triple."""
    kinds: dict[str | None, list[str]] = {}
    base = str(ID)
    count = 0
    for row in store.query(SUBJECTS):
        count += 1
        iri = row[0].value  # a blank node's value (its id) never starts with the base IRI
        if iri.startswith(base):
            kind, slash, _ = iri[len(base):].partition("/")
            kinds.setdefault(kind if slash and kind else None, []).append(iri)
    return count, kinds


def all_labels(store: ox.Store) -> dict[str, list]:
    """Every rdfs:label of every IRI (pyoxigraph literals), in the store's order."""
    found: dict[str, list] = {}
    for row in _solutions(store, LABELS):
        found.setdefault(row["x"].value, []).append(row["l"])
    return found


def labels(every: dict[str, list]) -> dict[str, str]:
    """One rdfs:label for each IRI, English first (what the pages name each IRI by)."""
    found: dict[str, str] = {}
    for key, literals in every.items():  # the first label, unless an English one (the last of them)
        found[key] = literals[0].value
        for label in literals:
            if label.language == "en":
                found[key] = label.value
    return found


def sg_types(store: ox.Store, classes) -> dict[str, list[str]]:
    """The sg classes of every typed IRI, as local names: one lookup per class (the POS index), not a
    string test per type triple."""
    types: dict[str, list[str]] = {}
    ns = str(SG._NS)
    for klass in sorted(c for c in classes if c.startswith(ns)):
        query = f"SELECT ?s WHERE {{ ?s a <{klass}> FILTER(isIRI(?s)) }}"
        name = klass[len(ns):]
        for row in _solutions(store, query):
            types.setdefault(row[0].value, []).append(name)
    return types


def entity_index(iris: dict[str | None, list[str]], names: dict[str, str],
                 types: dict[str, list[str]]) -> dict[str, list[list]]:
    """For each kind, its IRIs as [local part, label or None, sg types] by label (the local part for
    an IRI without a label): the /id/{kind}/ pages, in page order."""
    index = {}
    for kind in sorted(kind for kind in iris if kind is not None):  # by kind: not the store's order
        cut = len(str(ID)) + len(kind) + 1
        keyed = []
        for iri in iris[kind]:
            local, label = iri[cut:], names.get(iri)
            keyed.append(((label or local).casefold(), local, label, types.get(iri, ())))
        keyed.sort()
        index[kind] = [[local, label, types] for _, local, label, types in keyed]
    return index


def derived_counts(inference) -> dict[str, dict[str, int]]:
    """Inferred triples per predicate and rule, as the engine counted them while recording derivations."""
    derived: dict[str, dict[str, int]] = {}
    for (predicate, rule), n in sorted(inference.per_predicate_rule.items()) if inference else ():
        derived.setdefault(predicate, {})[rule] = n
    return derived


def graph_properties(store: ox.Store) -> dict[tuple[str, str], dict[str | None, int]]:
    """{(graph, property): {object datatype (None: an IRI or a blank node): triples}}, from one pass."""
    found: dict[tuple[str, str], dict[str | None, int]] = {}
    for row in store.query(GRAPH_PROPERTIES):
        kind = row["k"]
        found.setdefault((row["g"].value, row["p"].value), {})[None if kind is None else kind.value] = int(row["n"].value)
    return found


def _served(graph: str) -> bool:
    """Whether a named graph is in the dataset the service's queries see (_served_dataset)."""
    return graph != str(Graphs.CANDIDATES)


def property_uses(scan: dict) -> dict[str, int]:
    """Triples per property over the served graphs (a triple in two graphs counted twice, as the union does)."""
    uses: dict[str, int] = {}
    for (graph, prop), kinds in scan.items():
        if _served(graph):
            uses[prop] = uses.get(prop, 0) + sum(kinds.values())
    return dict(sorted(uses.items()))


def object_kinds(scan: dict) -> dict[str, list[str]]:
    """For each sg property, the kinds of object it has in the served graphs: "iri" or a datatype IRI
    (the JSON-LD context's coercions, api/linked_data.py build_context; DATATYPES asked of a store)."""
    ns = str(SG._NS)
    rows = [{"p": prop, "k": kind or "iri"} for (graph, prop), kinds in scan.items()
            if _served(graph) and prop.startswith(ns) for kind in kinds]
    return datatypes(rows)


def store_counts(store: ox.Store, derived: dict | None = None, scan: dict | None = None,
                 seen: tuple[int, dict] | None = None, classes: dict | None = None) -> dict:
    """Instances per class, uses per property, derivations per rule and predicate, totals, documents:
    the same figures, under the same keys, as the service's Site.counts computes over its store.
    scan: graph_properties(store); seen: subjects(store) (computed here when not given)."""
    scan = scan if scan is not None else graph_properties(store)
    subject_count, kinds = seen if seen is not None else subjects(store)
    per_graph: dict[str, int] = {}
    for (graph, _), found in scan.items():
        per_graph[graph] = per_graph.get(graph, 0) + sum(found.values())
    return {
        "classes": classes if classes is not None else class_instances(store),
        "properties": property_uses(scan),
        "derived": derived or {},
        "graphs": dict(sorted(per_graph.items())),
        "quads": sum(per_graph.values()), "triples": distinct_triples(store, scan),
        "subjects": subject_count, "objects": int(next(iter(store.query(OBJECTS)))["n"].value),
        "property_count": len({prop for _, prop in scan}),
        "entities": sum(len(members) for members in kinds.values()),
        "documents": [(row["d"], row.get("t"), row.get("f")) for row in _rows(store, DOCUMENTS)],
    }


def distinct_triples(store: ox.Store, scan: dict) -> int:
    """How many distinct triples the named graphs hold (a triple in two graphs counted once): only the
    triples of a property held by several graphs are looked up, in all its graphs but the largest."""
    holders: dict[str, dict[str, int]] = {}
    for (graph, prop), kinds in scan.items():
        holders.setdefault(prop, {})[graph] = sum(kinds.values())
    total = 0
    for prop, sizes in sorted(holders.items()):
        order = sorted(sizes, key=lambda g: (-sizes[g], g))
        total += sizes[order[0]]
        for number, graph in enumerate(order[1:], 1):
            query = NEW_IN_GRAPH.format(graph=f"<{graph}>", p=f"<{prop}>",
                                        earlier=" ".join(f"<{g}>" for g in order[:number]))
            total += int(next(iter(store.query(query)))["n"].value)
    return total


def class_instances(store: ox.Store, by_graph: dict[str, list] | None = None) -> dict[str, int]:
    """Nodes per class over the served graphs (CLASSES): a class typed in one graph only has that graph's
    count (classes_by_graph); only one typed in several is counted again over their union."""
    by_graph = by_graph if by_graph is not None else classes_by_graph(store)
    holders: dict[str, list[int]] = {}
    for graph, rows in by_graph.items():
        if _served(graph):
            for klass, n in rows:
                holders.setdefault(klass, []).append(n)
    shared = [klass for klass, counts in holders.items() if len(counts) > 1]
    counts = {klass: counts[0] for klass, counts in holders.items() if len(counts) == 1}
    if any(":" not in klass for klass in shared):  # a blank node (its id) cannot be named in VALUES
        return dict(sorted((row["c"], int(row["n"])) for row in _rows(store, CLASSES)))
    if shared:
        values = " ".join(f"<{klass}>" for klass in shared)
        query = CLASSES.replace("WHERE { ?x a ?c }", f"WHERE {{ VALUES ?c {{ {values} }} ?x a ?c }}")
        counts.update((row["c"], int(row["n"])) for row in _rows(store, query))
    return dict(sorted(counts.items()))


def classes_by_graph(store: ox.Store) -> dict[str, list]:
    """For each named graph, every class it types nodes with as [class, nodes]."""
    found: dict[str, list] = {}
    for row in _rows(store, GRAPH_CLASSES):
        found.setdefault(row["g"], []).append([row["c"], int(row["n"])])
    return found


def graph_classes(by_graph: dict[str, list]) -> dict[str, list]:
    """For each named graph, its GRAPH_CLASSES_SHOWN most used classes as [class, nodes], most first."""
    return {g: sorted(rows, key=lambda r: (-r[1], r[0]))[:GRAPH_CLASSES_SHOWN] for g, rows in sorted(by_graph.items())}


def home_classes(classes: dict[str, int], by_graph: dict[str, list], every_label: dict[str, list]) -> list[dict]:
    """The rows of HOME_QUERIES["classes"], from the class counts: an sg class with its instances and
    each label, ?record when only the provenance graph types nodes with it."""
    ns = str(SG._NS)
    typing = {klass for graph, rows in by_graph.items() if graph != str(Graphs.PROVENANCE) for klass, _ in rows}
    rows = []
    for klass, n in classes.items():
        if klass.startswith(ns):
            record = "false" if klass in typing else "true"
            rows += [_row((("class", klass), ("classLabel", label and label.value), ("n", str(n)), ("record", record)))
                     for label in every_label.get(klass, [None])]
    return sorted(rows, key=lambda row: (row["record"] == "true", -int(row["n"]), row["class"]))


def table(rows: list[dict]) -> dict:
    """Rows of {variable: value} as one list of variables and lists of values (None: unbound): the
    variable names are not repeated on every row of the file."""
    names = sorted({name for row in rows for name in row})
    return {"vars": names, "rows": [[row.get(name) for name in names] for row in rows]}


def untable(saved: dict) -> list[dict]:
    names = saved["vars"]
    return [{name: value for name, value in zip(names, row) if value is not None} for row in saved["rows"]]


def summarize(store: ox.Store, report) -> dict:
    """The summary of a finished build: the report's figures and the counts the pages show; its large
    parts (timeline rows, allowed values, labels, the /id/ indexes) under "parts", for write_summary."""
    # Millions of rows, lists and tuples, none in a reference cycle: with the cyclic collector on, each
    # of its passes walks all of them again (making 1.65M index rows: 2.5 s with it, 0.3 s without).
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _summarize(store, report)
    finally:
        if collecting:
            gc.enable()


def _summarize(store: ox.Store, report) -> dict:
    inference = report.inference
    scan = graph_properties(store)
    seen = subjects(store)
    iris = seen[1]
    by_graph = classes_by_graph(store)
    classes = class_instances(store, by_graph)
    counts = store_counts(store, derived_counts(inference), scan, seen, classes)
    every_label = all_labels(store)
    names = labels(every_label)
    label_texts = {iri: sorted({label.value for label in literals}) for iri, literals in every_label.items()}
    home = {"classes": home_classes(classes, by_graph, every_label),
            "graphs": [{"g": g, "n": str(n)} for g, n in counts["graphs"].items()],
            "documents": _rows(store, HOME_QUERIES["documents"])}
    return {"documents": report.documents, "facts": report.facts, "graphs": report.graph_sizes,
            "classes": report.class_counts,
            "inferred": inference.inferred if inference else 0,
            "by_rule": dict(sorted(inference.per_rule.items())) if inference else {},
            "graph_triples": counts["graphs"], "counts": counts, "home": home,
            "datatypes": object_kinds(scan),
            "kinds": dict(sorted((kind, len(members)) for kind, members in iris.items() if kind is not None)),
            "graph_classes": graph_classes(by_graph),
            "dump": DUMP_NAME,
            "parts": {"timeline": {name: table(rows) for name, rows in timeline(store, label_texts).items()},
                      "allowed": allowed_lists(store, Catalog.load(QUERIES_DIR), every_label),
                      "labels": dict(sorted(names.items()))},  # by IRI: not the store's order, which differs by build
            "index": entity_index(iris, names, sg_types(store, classes))}


def _compact(value) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def write_summary(build_dir: Path, summary: dict) -> None:
    """summary.json, its parts' files, and one index file per kind (with where each page starts)."""
    summary = dict(summary)
    for name, value in summary.pop("parts", {}).items():
        (build_dir / PART_NAMES[name]).write_bytes(_compact(value))
    pages = {}
    for kind, rows in summary.pop("index", {}).items():
        starts, offset = [], 0
        with (build_dir / INDEX_NAME.format(kind=kind)).open("wb") as out:
            for first in range(0, len(rows), INDEX_PAGE):  # a page a line: one JSON list of its rows
                line = _compact(rows[first:first + INDEX_PAGE]) + b"\n"
                starts.append(offset)
                out.write(line)
                offset += len(line)
        pages[kind] = starts + [offset]  # the end of the last page closes it
    summary["index_pages"] = pages
    (build_dir / SUMMARY_NAME).write_text(json.dumps(summary, indent=1, ensure_ascii=False), encoding="utf-8")


def read_summary(build_dir: Path | None) -> dict:
    """A build's summary; empty for no build folder or a build made before summaries held counts. Its
    "folder" names the build folder, where its parts are read from (read_part, read_index_page)."""
    if build_dir is None:
        return {}
    try:
        summary = json.loads((build_dir / SUMMARY_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {**summary, "folder": str(build_dir)} if "counts" in summary else {}


def read_part(summary: dict, name: str):
    """One of the summary's parts (PART_NAMES), None when the build has not got it (an older build, a
    summary read from a remote engine): the pages then ask the store."""
    folder = summary.get("folder")
    if folder is None:
        return None
    try:
        return json.loads((Path(folder) / PART_NAMES[name]).read_bytes())
    except (OSError, ValueError):
        return None


def index_pages(summary: dict, kind: str) -> int | None:
    """How many pages the /id/{kind}/ index has, None when the build has no index of it."""
    starts = (summary.get("index_pages") or {}).get(kind)
    return len(starts) - 1 if starts is not None and summary.get("folder") else None


def read_index_page(summary: dict, kind: str, page: int) -> list[list] | None:
    """Page `page` (from 0) of the /id/{kind}/ index: INDEX_PAGE rows [local part, label, types], read
    from the file where that page starts (bounded memory); None without an index."""
    starts = (summary.get("index_pages") or {}).get(kind)
    if starts is None or summary.get("folder") is None or not 0 <= page < len(starts) - 1:
        return None
    try:
        with (Path(summary["folder"]) / INDEX_NAME.format(kind=kind)).open("rb") as source:
            source.seek(starts[page])
            text = source.read(starts[page + 1] - starts[page])
    except OSError:
        return None
    return json.loads(text)


def dump_path(build_dir: Path | None) -> Path | None:
    """The build's N-Quads dump, if it has one."""
    if build_dir is None or not (build_dir / DUMP_NAME).is_file():
        return None
    return build_dir / DUMP_NAME
