"""Rejected candidates (corpus/candidates/rejected/*.yaml) are negative examples: the extractor must not propose them again."""

from pathlib import Path

import pytest
import yaml

from graph.build import SourcePaths
from loaders.documents import read_document
from loaders.extraction import RuleExtractor, known_entities, load_pipeline

PATHS = SourcePaths()
NEGATIVES = sorted((PATHS.candidates / "rejected").glob("*.yaml"))
EXAMPLES = [(path, item) for path in NEGATIVES
            for item in yaml.safe_load(path.read_text(encoding="utf-8"))["rejected"]]


@pytest.fixture(scope="module")
def proposals():
    nlp, seen = load_pipeline(), {}

    def of(document_name: str) -> set:
        if document_name not in seen:
            decls, dates = known_entities(PATHS.registry, PATHS.annotations, PATHS.documents, leave_out=document_name)
            extraction = RuleExtractor(decls, nlp, dates).extract(read_document(PATHS.documents / document_name))
            seen[document_name] = {(fact.quote, fact.turtle) for fact in extraction.facts}
        return seen[document_name]

    return of


@pytest.mark.skipif(not EXAMPLES, reason="no rejected candidates in the corpus yet")
@pytest.mark.parametrize("path, item", EXAMPLES, ids=[f"{p.stem[:3]}-{i['rule']}-{i['start']}" for p, i in EXAMPLES])
def test_a_rejected_candidate_is_not_proposed_again(proposals, path, item):
    document = yaml.safe_load(path.read_text(encoding="utf-8"))["document"]
    assert (item["quote"], item["turtle"]) not in proposals(document), item["reason"]
