"""Content negotiation: q-values, wildcards, specificity, 406."""

import pytest

from api.errors import ApiError
from api.negotiation import negotiate

OFFERED = ["application/sparql-results+json", "application/sparql-results+xml", "text/csv"]


@pytest.mark.parametrize(
    ("accept", "chosen"),
    [
        (None, OFFERED[0]),
        ("", OFFERED[0]),
        ("*/*", OFFERED[0]),
        ("*", OFFERED[0]),
        ("text/*", "text/csv"),
        ("text/csv;q=0.1, application/*;q=0.5", OFFERED[0]),
        ("application/sparql-results+xml;q=0.9, application/sparql-results+json;q=0.8", OFFERED[1]),
        ("*/*;q=0.1, application/sparql-results+json;q=0", OFFERED[1]),
        ("TEXT/CSV; charset=utf-8", "text/csv"),
        ("text/csv;q=bogus, */*;q=0.1", OFFERED[0]),
    ],
)
def test_negotiate(accept, chosen):
    assert negotiate(accept, OFFERED) == chosen


@pytest.mark.parametrize("accept", ["image/png", "text/html", "*/*;q=0", "text/csv;q=0, application/*;q=0"])
def test_nothing_acceptable(accept):
    with pytest.raises(ApiError) as caught:
        negotiate(accept, OFFERED)
    assert caught.value.status == 406
