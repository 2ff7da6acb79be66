"""Look at a SPARQL query before any parser or engine does: its form, its dataset clause, its depth,
and whether it would reach outside the store (SERVICE) or change it (any update keyword).

The check is lexical, on purpose. Oxigraph has no parse-only call in Python and does evaluate SERVICE
by opening a connection, so a query must be refused before it gets there. The scanner reads the query
the way the SPARQL grammar tokenises it (codepoint escapes first, then comments, strings, IRIs,
variables, prefixed names) and looks at the bare words left over: a keyword can only act as one when
it is a bare word. Where it is unsure (an unterminated string, a stray character) it keeps scanning
the rest as code, so it can refuse too much but never too little.
"""

import re
from dataclasses import dataclass
from functools import lru_cache

from api.errors import QuerySyntaxError, bad_request, service_refused, update_refused
from graph.backends.sparqltext import QUERY_FORMS, TOKEN as _TOKEN  # the grammar's tokens, one definition

UPDATE_KEYWORDS = frozenset(
    {"INSERT", "DELETE", "LOAD", "CLEAR", "DROP", "CREATE", "ADD", "MOVE", "COPY", "WITH", "USING"}
)
# Functions whose value differs from one run of a query to the next (so may its work: a FILTER on
# RAND() or NOW() can end a scan early one time and not the next).
VOLATILE_FUNCTIONS = frozenset({"RAND", "NOW", "UUID", "STRUUID", "BNODE"})
OPENERS = frozenset("{([")
CACHED_QUERY_LENGTH = 4096  # longer queries are screened each time: 512 of them would hold 50 MB
CLOSERS = frozenset("})]")

_CODEPOINT = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")


@dataclass(frozen=True)
class Screening:
    """What the scanner saw: the query form and whether the query names its own dataset."""

    form: str  # SELECT, ASK, CONSTRUCT or DESCRIBE
    has_dataset_clause: bool  # FROM or FROM NAMED present
    depth: int  # deepest nesting of { ( [
    volatile: bool = False  # calls one of VOLATILE_FUNCTIONS

    @property
    def kind(self) -> str:
        """'boolean', 'solutions' or 'graph': which family of result formats applies."""
        return {"ASK": "boolean", "SELECT": "solutions"}.get(self.form, "graph")


def unescape_codepoints(query: str) -> str:
    """Apply SPARQL's \\uXXXX / \\UXXXXXXXX escapes, as the engine does before parsing."""

    def replace(match: re.Match) -> str:
        try:
            return chr(int(match.group(1) or match.group(2), 16))
        except (ValueError, OverflowError):
            return match.group(0)

    return _CODEPOINT.sub(replace, query)


def screen(query: str, *, max_depth: int | None = None, max_terms: int | None = None) -> Screening:
    """Scan a query; raise a 4xx ApiError for updates, SERVICE, excessive nesting, too many terms and
    operators (parsing alone would take seconds), or no query form."""
    text = unescape_codepoints(query)
    form = None
    has_from = False
    volatile = False
    depth = max_seen = terms = 0
    for match in _TOKEN.finditer(text):
        kind = match.lastgroup
        if kind not in ("space", "comment"):
            terms += 1
            if max_terms is not None and terms > max_terms:
                raise bad_request(
                    "query_too_complex",
                    f"the query has more than {max_terms} terms and operators (max_query_terms); "
                    "parsing it alone would hold a worker for seconds: split it or use VALUES with fewer terms")
        if kind == "word":
            word = match.group().upper()
            if word == "SERVICE":
                raise service_refused()
            if word in UPDATE_KEYWORDS:
                raise update_refused(f"this endpoint is read-only: {word} is an update and is refused")
            if word == "FROM":
                has_from = True
            elif word in VOLATILE_FUNCTIONS:
                volatile = True
            elif form is None and word in QUERY_FORMS:
                form = word
        elif kind == "other":
            char = match.group()
            if char in OPENERS:
                depth += 1
                if depth > max_seen:
                    max_seen = depth
                    if max_depth is not None and depth > max_depth:
                        raise bad_request(
                            "query_too_deep", f"the query nests brackets deeper than {max_depth} levels"
                        )
            elif char in CLOSERS:
                depth -= 1
    if form is None:
        raise QuerySyntaxError("not a SPARQL query: expected SELECT, ASK, CONSTRUCT or DESCRIBE")
    return Screening(form=form, has_dataset_clause=has_from, depth=max_seen, volatile=volatile)


@lru_cache(maxsize=512)
def _screen_short(query: str, max_depth: int | None, max_terms: int | None) -> Screening:
    return screen(query, max_depth=max_depth, max_terms=max_terms)


def screen_cached(query: str, max_depth: int | None = None, max_terms: int | None = None) -> Screening:
    """`screen`, remembered for short queries seen before (refusals are raised again each time); long
    ones are scanned again rather than kept, so the cache stays small in bytes."""
    if len(query) > CACHED_QUERY_LENGTH:
        return screen(query, max_depth=max_depth, max_terms=max_terms)
    return _screen_short(query, max_depth, max_terms)
