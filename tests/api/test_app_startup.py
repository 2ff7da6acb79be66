"""Start-up: a bad canned-question file stops the app; a served build is protected from clean-up."""

import shutil
from dataclasses import replace
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import Settings
from graph.build import SourcePaths, build
from graph.catalog import CatalogError
from graph.store import StoreLayout

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory) -> Path:
    data = tmp_path_factory.mktemp("startup-data")
    build(StoreLayout(data), SourcePaths())
    return data


def test_a_bad_canned_question_stops_the_app(data_dir, tmp_path):
    queries = tmp_path / "queries"
    shutil.copytree(ROOT / "queries", queries)
    (queries / "broken.rq").write_text("# title: Broken\n# description: does not parse\nSELECT ?x WHERE {\n")
    app = create_app(replace(Settings(), data_dir=data_dir, workers=1, queries_dir=queries))
    with pytest.raises(CatalogError, match="broken.rq"):
        with TestClient(app):
            pass


def test_the_served_build_survives_later_builds(data_dir):
    layout = StoreLayout(data_dir)
    served = layout.current_build()
    app = create_app(replace(Settings(), data_dir=data_dir, workers=1, reload_interval=0))  # no live reload
    with TestClient(app) as client:
        for _ in range(3):  # more builds than are kept
            build(layout, SourcePaths())
        assert served.exists()
        assert client.get("/sparql", params={"query": "ASK { ?s ?p ?o }"},
                          headers={"Accept": "application/sparql-results+json"}).json()["boolean"] is True
    build(layout, SourcePaths())  # once the server has stopped, its build may go
    assert not served.exists()


def test_start_up_loads_the_maps_gazetteer_before_serving(data_dir):
    """The first burst of pages with a map finds the gazetteer loaded (its load cost a fresh server
    seconds of CPU while /health waited)."""
    from api import map_svg

    map_svg._indexes.cache_clear()
    app = create_app(replace(Settings(), data_dir=data_dir, workers=1, reload_interval=0))
    with TestClient(app):
        assert map_svg._indexes.cache_info().currsize == 1
