"""RDF terms across rdflib and pyoxigraph, and the one way statement IRIs are minted."""

import hashlib

import pyoxigraph as ox
from rdflib import BNode, Literal, URIRef

from rdflib.namespace import RDF, XSD

from vocab import ID, Graphs

XSD_STRING = str(XSD.string)
PROVENANCE = ox.NamedNode(str(Graphs.PROVENANCE))
_RDF_TYPE, _RDF_STATEMENT = ox.NamedNode(str(RDF.type)), ox.NamedNode(str(RDF.Statement))
_RDF_SUBJECT, _RDF_PREDICATE, _RDF_OBJECT = (ox.NamedNode(str(t)) for t in (RDF.subject, RDF.predicate, RDF.object))


def to_ox(term) -> ox.NamedNode | ox.BlankNode | ox.Literal:
    if isinstance(term, URIRef):
        return ox.NamedNode(str(term))
    if isinstance(term, BNode):
        return ox.BlankNode(str(term))
    if isinstance(term, Literal):
        if term.language:
            return ox.Literal(str(term), language=term.language)
        if term.datatype:
            return ox.Literal(str(term), datatype=ox.NamedNode(str(term.datatype)))
        return ox.Literal(str(term))
    raise TypeError(f"not an RDF term: {term!r}")


def to_rdflib(term) -> URIRef | BNode | Literal:
    if isinstance(term, ox.NamedNode):
        return URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return BNode(term.value)
    if isinstance(term, ox.Literal):
        if term.language:
            return Literal(term.value, lang=term.language)
        if term.datatype.value == XSD_STRING:
            return Literal(term.value)  # rdflib's plain literal is the same RDF 1.1 term
        return Literal(term.value, datatype=URIRef(term.datatype.value))
    raise TypeError(f"not an RDF term: {term!r}")


STATEMENT_HASH_LENGTH = 20  # hex digits of the SHA-1 of the triple's N-Triples form


def statement_id(s: str, p: str, o: str) -> str:
    """The hash ending a triple's statement IRI, from its terms in N-Triples form."""
    return hashlib.sha1(f"{s} {p} {o}".encode("utf-8")).hexdigest()[:STATEMENT_HASH_LENGTH]


def statement_iri(s: ox.NamedNode, p: ox.NamedNode, o) -> ox.NamedNode:
    """One IRI per triple, the same whether the triple was asserted, inferred or used as a premise."""
    return ox.NamedNode(str(ID) + "statement/" + statement_id(str(s), str(p), str(o)))


def reification(triple: tuple) -> tuple[ox.NamedNode, list[ox.Quad]]:
    """The statement node of a triple and the quads that describe it in the provenance graph."""
    statement = statement_iri(*triple)
    return statement, [
        ox.Quad(statement, _RDF_TYPE, _RDF_STATEMENT, PROVENANCE),
        ox.Quad(statement, _RDF_SUBJECT, triple[0], PROVENANCE),
        ox.Quad(statement, _RDF_PREDICATE, triple[1], PROVENANCE),
        ox.Quad(statement, _RDF_OBJECT, triple[2], PROVENANCE),
    ]
