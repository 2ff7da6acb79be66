"""The SPARQL protocol checklist (tests/api/test_protocol.py) on every backend: embedded, Oxigraph
server, Virtuoso, and SWAPGRAPH_TEST_ENDPOINT."""

import pytest

from tests.api.conftest import protocol_nquads
from tests.api.test_protocol import *  # noqa: F401,F403 - the suite itself, collected here once per backend
from tests.backends.conftest import deploy, make_build, serve


@pytest.fixture(scope="session")
def protocol_data(tmp_path_factory):
    data = tmp_path_factory.mktemp("protocol-data")
    make_build(data, protocol_nquads())
    return data


@pytest.fixture(scope="module")
def client(engines, backend, protocol_data):
    with serve(deploy(engines, backend, protocol_data, "protocol"), query_timeout=5.0) as test_client:
        yield test_client
