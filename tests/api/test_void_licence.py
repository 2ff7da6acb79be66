"""The dataset's declared licence (VoID) agrees with its sources': ShareAlike sources make a ShareAlike dataset."""

import httpx
import pytest
from rdflib import Graph, URIRef
from rdflib.namespace import DCTERMS

from api.app import create_app
from api.settings import Settings
from graph.build import SourcePaths, build
from graph.store import StoreLayout
from loaders.annotations import CuratedAnnotations, licence_address
from loaders.documents import read_documents
from tests.api.conftest import ThreadedServer
from vocab import ID

DATASET = URIRef("https://w3id.org/swapgraph/void#dataset")
SHARE_ALIKE = "https://creativecommons.org/licenses/by-sa/4.0/"


@pytest.fixture(scope="module")
def void(tmp_path_factory) -> Graph:
    data = tmp_path_factory.mktemp("void-licence")
    build(StoreLayout(data), SourcePaths())
    with ThreadedServer(create_app(Settings(data_dir=data, workers=1))) as server:
        response = httpx.get(server.url + "/void", headers={"Accept": "text/turtle"})
        assert response.status_code == 200
        page = httpx.get(server.url + "/void", headers={"Accept": "text/html"}).text
    graph = Graph().parse(data=response.text, format="turtle")
    graph.page = page
    return graph


def recorded_licences() -> dict[URIRef, str]:
    """Each corpus document's licence as its metadata record gives it (documents without one are left out)."""
    paths, found = SourcePaths(), {}
    reviewed = CuratedAnnotations(paths.annotations)
    for document in read_documents(paths.documents):
        licence = reviewed.extract(document).metadata.get("licence")
        if licence:
            found[URIRef(ID["document/" + document.stem])] = licence_address(str(licence))
    return found


def test_each_document_carries_its_own_licence_in_the_void(void):
    licences = recorded_licences()
    assert licences, "the corpus records at least one document licence"
    for document, address in licences.items():
        assert (DATASET, DCTERMS.source, document) in void
        assert set(void.objects(document, DCTERMS.license)) == {URIRef(address)}


def test_share_alike_sources_make_the_dataset_share_alike(void):
    declared = set(void.objects(DATASET, DCTERMS.license))
    if SHARE_ALIKE in recorded_licences().values():
        assert declared == {URIRef(SHARE_ALIKE)}
        assert "CC BY-SA 4.0" in void.page
    assert len(declared) == 1
