"""/sparql reads its URL parameters as Starlette does, cached or not (api.sparql._url_params)."""

import pytest
from starlette.datastructures import QueryParams
from starlette.requests import Request

from api.sparql import _url_params

QUERY_STRINGS = [
    b"query=ASK%20%7B%7D&format=json&format=",
    b"a=%zz&b=+x+&c",
    b"query=%C3%A9%E2%82%AC&x=1&x=2",
    b"",
    b"query=" + b"%20" * 3000,  # past the cached size: parsed each time
]


@pytest.mark.parametrize("query_string", QUERY_STRINGS)
def test_parameters_are_read_as_starlette_reads_them(query_string):
    expected: dict[str, list[str]] = {}
    for name, value in QueryParams(query_string).multi_items():
        expected.setdefault(name, []).append(value)
    request = Request({"type": "http", "method": "GET", "path": "/sparql", "query_string": query_string, "headers": []})
    assert _url_params(request) == expected
    params = _url_params(request)
    params.setdefault("query", []).append("changed by a caller")
    assert _url_params(request) == expected  # a cached parse is never shared with a caller
