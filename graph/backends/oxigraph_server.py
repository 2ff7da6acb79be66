"""Oxigraph server (`oxigraph serve`): standard protocols at /query, /update and /store; its time limit
is a server option (--timeout-s), not a request parameter, so nothing changes per request. A read
that meets a write under way can fail with a 500 "Resource temporarily unavailable (os error 11)"
(seen while a publish uploads and another process reads): such an answer is asked again."""

from graph.backends.standard import StandardEngine


class OxigraphServer(StandardEngine):
    name = "oxigraph"

    def transient(self, status: int, message: str) -> bool:
        return status == 500 and "temporarily unavailable" in message

    @staticmethod
    def urls(base: str) -> dict:
        return {"query_url": f"{base}/query", "update_url": f"{base}/update", "graph_store_url": f"{base}/store"}
