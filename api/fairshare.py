"""Fair share per client: how many queries a client may run at once and its query-seconds (429 past them).

A request's client and lane are set by `api.app` in context variables, which travel with the request
into the thread pool and down to `api.executor`; the executor charges each query to its client. The
query-seconds are a token bucket per client: it holds `seconds` at most and refills over `window`
seconds, so a client may spend a burst of heavy queries, then as much as the refill allows.
"""

import math
import threading
import time
from collections import OrderedDict
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from api.errors import TooManyRequests

HEAVY, LIGHT = "heavy", "light"  # /sparql with the user's own query, and everything else
LANE: ContextVar[str] = ContextVar("swapgraph_lane", default=LIGHT)


@dataclass
class _Account:
    balance: float  # query-seconds left
    updated: float  # when balance was last refilled (monotonic)
    running: int = 0


class ClientBudgets:
    """Every client's running queries and query-seconds; `max_concurrent` 0 or `seconds` 0 switch a part off."""

    def __init__(self, max_concurrent: int, seconds: float, window: float, max_clients: int = 10_000):
        self.max_concurrent = max_concurrent
        self.seconds = seconds
        self.rate = seconds / window if window > 0 else math.inf  # query-seconds given back per second
        self.max_clients = max_clients
        self._lock = threading.Lock()
        self._accounts: OrderedDict[str, _Account] = OrderedDict()

    def _account(self, client: str, now: float) -> _Account:
        account = self._accounts.get(client)
        if account is None:
            account = self._accounts[client] = _Account(self.seconds, now)
            self._forget_idle()
        else:
            self._accounts.move_to_end(client)
            account.balance = min(self.seconds, account.balance + (now - account.updated) * self.rate)
            account.updated = now
        return account

    def _forget_idle(self) -> None:
        """Bound the table: the clients seen longest ago go first, never one with a query running."""
        for client in list(self._accounts)[: max(0, len(self._accounts) - self.max_clients)]:
            if self._accounts[client].running == 0:
                del self._accounts[client]

    def running(self, client: str) -> int:
        """The client's queries in flight (charged and not yet finished)."""
        with self._lock:
            account = self._accounts.get(client)
            return account.running if account is not None else 0

    @contextmanager
    def charge(self, client: str):
        """Run one query for `client`: refused with 429 when it has too many running or no seconds left."""
        now = time.monotonic()
        with self._lock:
            account = self._account(client, now)
            if self.max_concurrent and account.running >= self.max_concurrent:
                raise TooManyRequests(
                    f"this client already has {account.running} queries running (at most {self.max_concurrent} "
                    "at once); wait for one to finish", 1)
            if self.seconds and account.balance <= 0:
                wait = math.ceil(-account.balance / self.rate) + 1
                raise TooManyRequests(
                    f"this client has used its {self.seconds:g} query-seconds; they come back at "
                    f"{self.rate:.3g} per second", wait)
            account.running += 1
        try:
            yield
        finally:
            spent = time.monotonic() - now
            with self._lock:
                account.running -= 1
                if self.seconds:
                    account.balance -= spent


@dataclass(frozen=True)
class Ticket:
    """Who a request is for, the budgets it is charged to, and the query size it may send."""

    client: str
    budgets: ClientBudgets
    max_terms: int | None = None

    def charge(self):
        return self.budgets.charge(self.client)


TICKET: ContextVar[Ticket | None] = ContextVar("swapgraph_ticket", default=None)


def client_of(scope: dict, trusted_proxies: tuple[str, ...], client_header: str) -> str:
    """The client's address: the peer's, or (from a trusted proxy) the last address in `client_header`."""
    peer = (scope.get("client") or ("unknown", 0))[0]
    if client_header and peer in trusted_proxies:
        name = client_header.lower().encode("latin-1")
        for key, value in scope.get("headers", ()):
            if key == name:
                forwarded = [part.strip() for part in value.decode("latin-1").split(",") if part.strip()]
                if forwarded:
                    return forwarded[-1]
    return peer
