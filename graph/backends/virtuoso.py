"""Virtuoso Open Source 7: where it departs from the standard protocols.

- JSON results carry `"type": "typed-literal"` (the 2008 draft's name) for literals with a datatype:
  renamed `literal`, which is what the standard and pyoxigraph's parser read.
- Its default graph is the union of every graph it holds, system graphs included: Swapgraph never
  relies on it; every query names its dataset (default-graph-uri / named-graph-uri, always both).
- Updates and the Graph Store endpoint need a user with digest authentication: /sparql-auth and
  /sparql-graph-crud-auth, the graph named by `graph-uri`; uploads as Turtle (it does not know the
  N-Triples media type).
- It keeps RDF 1.0's distinction between "x" and "x"^^xsd:string (one literal in RDF 1.1): data is
  loaded as "x", and queries are sent with "x"^^xsd:string written "x".
- The per-request `timeout` (milliseconds) makes it an "anytime" query: past the limit it answers 200
  with the rows found so far and an X-SQL-State header (S1TAT). Such an answer is refused, never
  passed on as if complete.
"""

import json

import httpx

from graph.backends.standard import StandardEngine

PARTIAL_STATES = ("S1TAT",)


class Virtuoso(StandardEngine):
    name = "virtuoso"
    graph_parameter = "graph-uri"
    rdf_upload_type = "text/turtle"
    graph_accept = "text/plain"  # Virtuoso's name for N-Triples
    plain_strings = True

    @staticmethod
    def urls(base: str) -> dict:
        return {"query_url": f"{base}/sparql", "update_url": f"{base}/sparql-auth",
                "graph_store_url": f"{base}/sparql-graph-crud-auth"}

    def auth(self, user, password):
        return httpx.DigestAuth(user, password) if user else None

    def query_parameters(self, timeout):
        return {"timeout": str(int(timeout * 1000))} if timeout else {}

    def solutions(self, response):
        if response.headers.get("x-sql-state", "") in PARTIAL_STATES:
            raise RuntimeError("the engine stopped the query at its time limit and sent partial results")
        data = json.loads(response.content)
        for row in data.get("results", {}).get("bindings", []):
            for term in row.values():
                if term.get("type") == "typed-literal":
                    term["type"] = "literal"
        return data
