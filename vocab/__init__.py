"""The closed Swapgraph vocabulary: every ontology term, IRI base and named graph used in code."""

import re

from rdflib import Namespace, URIRef
from rdflib.namespace import DefinedNamespace

BASE = "https://w3id.org/swapgraph/"
ONTOLOGY_IRI = URIRef(BASE + "ontology")
ID = Namespace(BASE + "id/")
RULE = Namespace(BASE + "rule/")
GRAPH = Namespace(BASE + "graph/")


class SG(DefinedNamespace):
    """Terms of the Swapgraph ontology (ontology/swapgraph.ttl); a test keeps both in sync."""

    _NS = Namespace(BASE + "ontology#")
    _fail = True

    Agent: URIRef
    Person: URIRef
    Detainee: URIRef
    State: URIRef
    Organization: URIRef
    Place: URIRef
    Venue: URIRef
    Event: URIRef
    Exchange: URIRef
    ExchangeLeg: URIRef
    Release: URIRef
    DetaineeGroup: URIRef
    Role: URIRef
    Mediator: URIRef
    Negotiator: URIRef
    Negotiation: URIRef
    Claim: URIRef
    CountClaim: URIRef
    OrdinalClaim: URIRef
    AggregateClaim: URIRef
    Document: URIRef
    Evidence: URIRef
    Derivation: URIRef
    Rule: URIRef
    released: URIRef
    releasedPerson: URIRef
    releasedGroup: URIRef
    releaseOf: URIRef
    releasingState: URIRef
    fromCustodyOf: URIRef
    receivingState: URIRef
    inExchange: URIRef
    hasRelease: URIRef
    releasedBy: URIRef
    releasedTo: URIRef
    releasedIn: URIRef
    heldBy: URIRef
    custodyHeldBy: URIRef
    exchangedFor: URIRef
    pardonedBy: URIRef
    excludedFrom: URIRef
    consideredFor: URIRef
    party: URIRef
    releasingParty: URIRef
    receivingParty: URIRef
    partOf: URIRef
    hasPart: URIRef
    venue: URIRef
    locatedIn: URIRef
    announcedBy: URIRef
    ledTo: URIRef
    date: URIRef
    startDate: URIRef
    endDate: URIRef
    count: URIRef
    category: URIRef
    minimumCount: URIRef
    approximate: URIRef
    Status: URIRef
    done: URIRef
    agreed: URIRef
    expected: URIRef
    announced: URIRef
    status: URIRef
    subgroupOf: URIRef
    hasSubgroup: URIRef
    sameCohortAs: URIRef
    memberOf: URIRef
    hasMember: URIRef
    transitPlace: URIRef
    arrivalPlace: URIRef
    transitPurpose: URIRef
    Statement: URIRef
    statedBy: URIRef
    reportedBy: URIRef
    channel: URIRef
    content: URIRef
    timing: URIRef
    statementKind: URIRef
    saysInitiatedBy: URIRef
    RankingClaim: URIRef
    rankedEvent: URIRef
    superlative: URIRef
    Position: URIRef
    holder: URIRef
    holds: URIRef
    office: URIRef
    officeOf: URIRef
    former: URIRef
    asOf: URIRef
    LifeEvent: URIRef
    Arrest: URIRef
    Charge: URIRef
    Trial: URIRef
    Sentencing: URIRef
    Pardon: URIRef
    Death: URIRef
    eventOf: URIRef
    byAgent: URIRef
    eventPlace: URIRef
    claimedIdentity: URIRef
    Contribution: URIRef
    contributor: URIRef
    contributedTo: URIRef
    contributionRole: URIRef
    mediatorAgent: URIRef
    actsAsMediator: URIRef
    mediatedExchange: URIRef
    mediated: URIRef
    mediatedBy: URIRef
    negotiatorAgent: URIRef
    actsAsNegotiator: URIRef
    inNegotiation: URIRef
    participatedIn: URIRef
    participant: URIRef
    onBehalfOf: URIRef
    actedThrough: URIRef
    roleTitle: URIRef
    chairedBy: URIRef
    aboutExchange: URIRef
    initiatedBy: URIRef
    duration: URIRef
    citizenship: URIRef
    occupation: URIRef
    employer: URIRef
    position: URIRef
    affiliation: URIRef
    sentence: URIRef
    charge: URIRef
    arrestDate: URIRef
    arrestedIn: URIRef
    organizationOf: URIRef
    isoCode: URIRef
    claimedBy: URIRef
    side: URIRef
    countedGroup: URIRef
    ordinal: URIRef
    scope: URIRef
    since: URIRef
    inYear: URIRef
    conflictsWith: URIRef
    categorisedDifferently: URIRef
    sumOfLegs: URIRef
    title: URIRef
    publisher: URIRef
    author: URIRef
    documentKind: URIRef
    language: URIRef
    publicationDate: URIRef
    fileName: URIRef
    sha256: URIRef
    document: URIRef
    quote: URIRef
    startOffset: URIRef
    endOffset: URIRef
    annotationLine: URIRef
    evidence: URIRef
    derivation: URIRef
    derivationRecord: URIRef
    rule: URIRef
    premise: URIRef
    ruleSource: URIRef


class Graphs:
    """Named graphs of the store: what lives where."""

    ONTOLOGY = GRAPH.ontology  # the OWL ontology
    ENTITIES = GRAPH.entities  # entity registry: labels, alternative labels, basic types, ISO codes
    ASSERTED = GRAPH.asserted  # facts stated by the documents (each with evidence)
    INFERRED = GRAPH.inferred  # facts derived by the rules
    PROVENANCE = GRAPH.provenance  # documents, evidence spans, reified statements, derivations, rules

    ALL = (ONTOLOGY, ENTITIES, ASSERTED, INFERRED, PROVENANCE)
    # The extractor's unreviewed proposals: not in ALL, not in the default graph of queries; asked for by name.
    CANDIDATES = GRAPH.candidates


# Prefixes shared by annotation files, canned queries and serialisations.
PREFIXES = {
    "sg": str(SG._NS),
    "id": str(ID),
    "state": str(ID) + "state/",
    "person": str(ID) + "person/",
    "org": str(ID) + "org/",
    "place": str(ID) + "place/",
    "exchange": str(ID) + "exchange/",
    "negotiation": str(ID) + "negotiation/",
    "release": str(ID) + "release/",
    "group": str(ID) + "group/",
    "role": str(ID) + "role/",
    "claim": str(ID) + "claim/",
    "event": str(ID) + "event/",
    "doc": str(ID) + "document/",
    "rule": str(RULE),
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "owl": "http://www.w3.org/2002/07/owl#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "prov": "http://www.w3.org/ns/prov#",
}

# Vocabularies the ontology aligns with: known to IRI parsing and serialisations, never used as terms.
ALIGNED_PREFIXES = {
    "dcterms": "http://purl.org/dc/terms/",
    "schema": "https://schema.org/",
    "sem": "http://semanticweb.cs.vu.nl/2009/11/sem/",
    "crm": "http://www.cidoc-crm.org/cidoc-crm/",
    "void": "http://rdfs.org/ns/void#",
}
SPARQL_PREFIXES = "".join(f"PREFIX {name}: <{iri}>\n" for name, iri in PREFIXES.items())
TURTLE_PREFIXES = "".join(f"@prefix {name}: <{iri}> .\n" for name, iri in PREFIXES.items())

_ABSOLUTE = re.compile(r"^(https?|urn|mailto|tag):", re.IGNORECASE)
_UNSAFE_IRI = re.compile(r'[\s<>"{}|\\^`]')


def expand_iri(text: str) -> str | None:
    """`<iri>`, an absolute IRI, or a CURIE with a known prefix, as an IRI string; None otherwise."""
    text = text.strip()
    if text.startswith("<") and text.endswith(">"):
        iri = text[1:-1].strip()
    elif _ABSOLUTE.match(text):
        iri = text
    else:
        prefix, colon, local = text.partition(":")
        known = PREFIXES.get(prefix) or ALIGNED_PREFIXES.get(prefix)
        if not colon or not known or not local:
            return None
        iri = known + local
    return None if _UNSAFE_IRI.search(iri) else iri


def sg_terms() -> frozenset[URIRef]:
    """Every term the vocabulary module declares."""
    return frozenset(SG[name] for name in SG.__annotations__ if not name.startswith("_"))
