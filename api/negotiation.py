"""Content negotiation: one function that reads `Accept` (q-values, wildcards) and picks an offer.

Clients send the same few `Accept` headers again and again: the choice for a header and a list of
offers is remembered (a pure function of the two; a small LRU, so odd headers cannot grow it).
"""

from collections.abc import Sequence
from functools import lru_cache

from api.errors import not_acceptable


def _parse(accept: str) -> list[tuple[str, str, float, int]]:
    ranges = []
    for index, part in enumerate(accept.split(",")):
        fields = [f.strip() for f in part.split(";")]
        media = fields[0].lower()
        if not media:
            continue
        if media == "*":
            media = "*/*"
        if "/" not in media:
            continue
        kind, _, sub = media.partition("/")
        q = 1.0
        for param in fields[1:]:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value.strip())
                except ValueError:
                    q = 0.0
                q = min(max(q, 0.0), 1.0)
        ranges.append((kind.strip(), sub.strip(), q, index))
    return ranges


def negotiate(accept: str | None, offered: Sequence[str]) -> str:
    """The offered media type the client prefers most; the first offer when `Accept` is absent or empty.

    Each offer takes the q of the most specific matching range (`type/sub` > `type/*` > `*/*`);
    ties go to the order of `offered` (the server's preference). Nothing acceptable raises a 406.
    """
    if not offered:
        raise ValueError("nothing offered")
    best = _best(accept or "", tuple(offered))
    if best is None:
        raise not_acceptable(list(offered))
    return best


@lru_cache(maxsize=256)
def _best(accept: str, offered: tuple[str, ...]) -> str | None:
    if not accept.strip():
        return offered[0]
    ranges = _parse(accept)
    if not ranges:
        return offered[0]
    best, best_q = None, 0.0
    for offer in offered:
        kind, _, sub = offer.lower().partition("/")
        match_q, match_rank = None, -1
        for r_kind, r_sub, q, _ in ranges:
            if r_kind == kind and r_sub == sub:
                rank = 2
            elif r_kind == kind and r_sub == "*":
                rank = 1
            elif r_kind == "*" and r_sub == "*":
                rank = 0
            else:
                continue
            if rank > match_rank:
                match_q, match_rank = q, rank
        if match_q is not None and match_q > best_q:
            best, best_q = offer, match_q
    return best
