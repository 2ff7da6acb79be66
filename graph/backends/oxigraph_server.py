"""Oxigraph server (`oxigraph serve`): standard protocols at /query, /update and /store; its time limit
is a server option (--timeout-s), not a request parameter, so nothing changes per request."""

from graph.backends.standard import StandardEngine


class OxigraphServer(StandardEngine):
    name = "oxigraph"

    @staticmethod
    def urls(base: str) -> dict:
        return {"query_url": f"{base}/query", "update_url": f"{base}/update", "graph_store_url": f"{base}/store"}
