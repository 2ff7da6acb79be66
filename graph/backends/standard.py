"""A remote engine that follows the SPARQL 1.1 Protocol and Graph Store HTTP Protocol to the letter:
the base the engine modules (oxigraph_server, virtuoso) change only where their engine differs."""

import json

import httpx

SPARQL_JSON = "application/sparql-results+json"
N_TRIPLES = "application/n-triples"


class StandardEngine:
    """How Swapgraph talks to an engine; every method is one protocol operation."""

    name = "standard"
    graph_parameter = "graph"  # the Graph Store Protocol's query parameter naming the graph
    rdf_upload_type = N_TRIPLES  # the media type graphs are uploaded as (N-Triples is also valid Turtle)
    graph_accept = N_TRIPLES  # the media type asked for CONSTRUCT and DESCRIBE results
    plain_strings = False  # write "x"^^xsd:string as "x" in queries (the same literal, in RDF 1.1)

    def auth(self, user: str | None, password: str | None):
        return httpx.BasicAuth(user, password) if user else None

    def transient(self, status: int, message: str) -> bool:
        """Whether a failed answer to a query is worth asking again at once (the engine said so)."""
        return False

    def query_parameters(self, timeout: float | None) -> dict:
        """Extra form parameters of a query: the engine's own time limit where it has one per request."""
        return {}

    def solutions(self, response: httpx.Response) -> dict:
        """SPARQL JSON results, checked for an answer the engine cut short."""
        return json.loads(response.content)

    def graph_store_request(self, graph: str, body: bytes, append: bool) -> tuple[str, dict]:
        """The method and request options that PUT (replace) or POST (add to) one named graph's triples."""
        return ("POST" if append else "PUT"), {"params": {self.graph_parameter: graph}, "content": body,
                                               "headers": {"Content-Type": self.rdf_upload_type}}
