"""The canned questions with their expected rows (tests/graph/test_catalog.py) on every backend: the
synthetic fixture's exact rows, and every question answering on the real graph. The backend's reader
answers `query(...)` as pyoxigraph.Store does, so the catalogue's own tests run on it unchanged."""

import pytest

from api.dataset import backend_for
from api.settings import Settings
from tests.backends.conftest import deploy, make_build
from tests.graph.test_catalog import (  # noqa: F401 - the suite itself, collected here once per backend
    FIXTURES, catalog, test_conflicts, test_detainee_profile, test_each_question_answers_on_the_real_graph,
    test_exchange_legs, test_exchanged_for, test_excluded, test_exchanges_filters,
    test_other_questions_answer_on_the_fixture, test_releases_all_and_filtered, test_who_mediated)


def reader(overrides: dict):
    """What a query worker opens for the served version of these settings' store."""
    return backend_for(Settings(**overrides)).current().reader.open()


@pytest.fixture(scope="session")
def canned_data(tmp_path_factory):
    import pyoxigraph as ox

    data = tmp_path_factory.mktemp("canned-data")
    make_build(data, (FIXTURES / "canned.trig").read_bytes(), ox.RdfFormat.TRIG)
    return data


@pytest.fixture(scope="module")
def store(engines, backend, canned_data):
    return reader(deploy(engines, backend, canned_data, "canned"))


@pytest.fixture(scope="module")
def real_store(engines, backend, corpus_data):
    return reader(deploy(engines, backend, corpus_data, "corpus"))
