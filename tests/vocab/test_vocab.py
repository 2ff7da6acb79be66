"""The ontology parses, stays in OWL 2 RL's supported shape, and matches the code's vocabulary module."""

from pathlib import Path

import owlrl
import pytest
from rdflib import OWL, RDF, RDFS, Graph, URIRef
from rdflib.namespace import SKOS

from graph.build import SourcePaths
from vocab import SG, sg_terms
from loaders.corpus import load_corpus

ROOT = Path(__file__).resolve().parents[2]
ONTOLOGY = Graph().parse(ROOT / "ontology/swapgraph.ttl")
SG_NS = str(SG._NS)
OWLRL_ERROR = URIRef("http://www.daml.org/2002/03/agents/agent-ont#ErrorMessage")
# The only properties allowed a domain or range: each links one kind of node only.
TYPED_PROPERTIES = {SG.releasedPerson, SG.releasedGroup}


def declared_terms() -> set[URIRef]:
    return {s for s in ONTOLOGY.subjects() if isinstance(s, URIRef) and str(s).startswith(SG_NS)}


def test_ontology_header_has_version_and_label():
    header = URIRef("https://w3id.org/swapgraph/ontology")
    assert (header, RDF.type, OWL.Ontology) in ONTOLOGY
    assert ONTOLOGY.value(header, OWL.versionInfo) is not None


def test_vocabulary_module_and_ontology_declare_the_same_terms():
    assert declared_terms() == set(sg_terms())


def test_vocabulary_module_is_closed():
    with pytest.raises(AttributeError):
        SG.releasedTooo  # noqa: B018 - a typo must raise, not mint an IRI


def test_every_term_has_a_label_and_a_definition():
    for term in declared_terms():
        assert ONTOLOGY.value(term, RDFS.label) is not None, term
        assert ONTOLOGY.value(term, SKOS.definition) is not None, term


def test_no_domain_or_range_on_shared_properties():
    constrained = set(ONTOLOGY.subjects(RDFS.domain)) | set(ONTOLOGY.subjects(RDFS.range))
    assert constrained <= TYPED_PROPERTIES


def test_only_constructs_the_engine_implements():
    unsupported = {OWL.sameAs, OWL.equivalentClass, OWL.equivalentProperty, OWL.FunctionalProperty,
                   OWL.InverseFunctionalProperty, OWL.someValuesFrom, OWL.allValuesFrom, OWL.hasValue,
                   OWL.intersectionOf, OWL.unionOf, OWL.hasKey}
    used = set(ONTOLOGY.predicates()) | set(ONTOLOGY.objects(predicate=RDF.type))
    assert not (used & unsupported)
    for chain in ONTOLOGY.objects(predicate=OWL.propertyChainAxiom):
        assert len(list(ONTOLOGY.items(chain))) == 2  # prp-spo2 is implemented for chains of two


def test_ontology_and_data_are_consistent():
    paths = SourcePaths()
    corpus = load_corpus(paths.documents, paths.annotations, paths.registry)
    graph = ONTOLOGY + corpus.entities + corpus.asserted
    owlrl.DeductiveClosure(owlrl.OWLRL_Semantics).expand(graph)
    assert not list(graph.subjects(RDF.type, OWL.Nothing))
    # owlrl reports inconsistencies as nodes of this type rather than raising.
    assert not list(graph.subjects(RDF.type, OWLRL_ERROR))


def test_every_term_used_in_the_data_is_declared():
    paths = SourcePaths()
    corpus = load_corpus(paths.documents, paths.annotations, paths.registry)
    used = {p for _, p, _ in corpus.asserted} | {o for _, p, o in corpus.asserted if p == RDF.type}
    used |= {o for _, p, o in corpus.entities if p == RDF.type}
    ours = {t for t in used if str(t).startswith(SG_NS)}
    assert ours <= declared_terms()
    assert ours <= set(sg_terms())
