"""What a remote backend rewrites so that a query means what it means on the embedded store, on every
backend: isBLANK / isIRI / isURI with blank nodes stored as skolem IRIs, and a bound parameter in the
short form `CONSTRUCT WHERE { ... }` (whose only group is also its template: no VALUES can go there)."""

import pyoxigraph as ox
import pytest

from api.dataset import backend_for
from api.settings import Settings
from tests.backends.conftest import deploy, make_build

EX = "https://example.org/"
GRAPH = "https://w3id.org/swapgraph/graph/asserted"
DATA = f"""
_:release <{EX}person> <{EX}alice> <{GRAPH}> .
_:release <{EX}count> "2" <{GRAPH}> .
<{EX}exchange> <{EX}release> _:release <{GRAPH}> .
<{EX}exchange> <{EX}label> "an exchange" <{GRAPH}> .
<{EX}alice> <{EX}label> "Alice" <{GRAPH}> .
""".encode()


@pytest.fixture(scope="session")
def semantics_data(tmp_path_factory):
    data = tmp_path_factory.mktemp("semantics-data")
    make_build(data, DATA)
    return data


@pytest.fixture(scope="module")
def store(engines, backend, semantics_data):
    return backend_for(Settings(**deploy(engines, backend, semantics_data, "semantics"))).current().reader.open()


def subjects(store, test: str) -> set[str]:
    rows = store.query(f"SELECT DISTINCT ?s WHERE {{ ?s ?p ?o FILTER({test}) }}", use_default_graph_as_union=True)
    return {row["s"].value if isinstance(row["s"], ox.NamedNode) else "blank" for row in rows}


def test_is_blank_and_is_iri_see_blank_nodes_as_blank_nodes(store):
    assert subjects(store, "isBLANK(?s)") == {"blank"}
    assert subjects(store, "isIRI(?s)") == subjects(store, "isURI(?s)") == {EX + "exchange", EX + "alice"}
    assert subjects(store, "!isBLANK(?s) && isIRI(?s)") == {EX + "exchange", EX + "alice"}
    rows = store.query(f"SELECT ?o WHERE {{ <{EX}exchange> <{EX}release> ?o FILTER(isBlank(?o)) }}",
                       use_default_graph_as_union=True)
    assert [type(row["o"]) for row in rows] == [ox.BlankNode]


@pytest.mark.parametrize("query", [
    f"CONSTRUCT WHERE {{ ?x <{EX}label> ?label }}",
    f"CONSTRUCT\nWHERE {{ ?x <{EX}label> ?label . }} LIMIT 5",
    f"CONSTRUCT {{ ?x <{EX}label> ?label }} WHERE {{ ?x <{EX}label> ?label }}",
])
def test_a_bound_parameter_in_the_short_and_the_long_construct(store, query):
    bound = {ox.Variable("x"): ox.NamedNode(EX + "alice")}
    triples = set(store.query(query, substitutions=bound, use_default_graph_as_union=True))
    assert triples == {ox.Triple(ox.NamedNode(EX + "alice"), ox.NamedNode(EX + "label"), ox.Literal("Alice"))}


def test_a_bound_blank_node_finds_its_node(store):
    release = next(iter(store.query(f"SELECT ?r WHERE {{ <{EX}exchange> <{EX}release> ?r }}",
                                    use_default_graph_as_union=True)))["r"]
    rows = store.query(f"SELECT ?r ?who WHERE {{ ?r <{EX}person> ?who FILTER(isBLANK(?r)) }}",
                       substitutions={ox.Variable("r"): release}, use_default_graph_as_union=True)
    assert [row["who"].value for row in rows] == [EX + "alice"]
