"""The per-document parse cache: a load (and a build) that reuses it gives what a load from scratch gives."""

import shutil
from dataclasses import replace

import pyoxigraph as ox
import pytest

from bench.generate import generate
from graph.build import PARSE_CACHE, SourcePaths, build
from graph.store import StoreLayout, open_current
from loaders.corpus import load_corpus
from vocab import Graphs


def paths_of(root):
    generated = SourcePaths.under(root)
    return replace(SourcePaths(), documents=generated.documents, annotations=generated.annotations,
                   registry=generated.registry)


def loaded(root, cache=None):
    paths = paths_of(root)
    corpus = load_corpus(paths.documents, paths.annotations, paths.registry, cache_dir=cache)
    return (list(corpus.entity_table), list(corpus.asserted_table), list(corpus.provenance_table),
            {triple: list(evidence) for triple, evidence in corpus.evidence.items()}, corpus.fact_count)


@pytest.fixture
def corpus(tmp_path):
    root = tmp_path / "corpus"
    generate(root, 6000, seed=3)
    return root


def change_one_document(root, tmp_path):
    """The first document and its annotations replaced by another corpus's first (other people, counts)."""
    other = tmp_path / "other"
    generate(other, 6000, seed=4)
    for folder, suffix in (("corpus/documents", ".txt"), ("corpus/annotations", ".yaml")):
        first = sorted((other / folder).glob("*" + suffix))[0]
        shutil.copy(first, root / folder / first.name)


def test_a_cached_load_is_the_load_from_scratch(corpus, tmp_path):
    cache = tmp_path / "cache"
    fresh = loaded(corpus)
    assert loaded(corpus, cache) == fresh  # filling the cache
    assert len(list(cache.glob("*.pickle"))) == len(list((corpus / "corpus/documents").glob("*.txt")))
    assert loaded(corpus, cache) == fresh  # read from it


def test_a_changed_document_is_parsed_again(corpus, tmp_path):
    cache = tmp_path / "cache"
    before = loaded(corpus, cache)
    change_one_document(corpus, tmp_path)
    after = loaded(corpus, cache)
    assert after != before
    assert after == loaded(corpus)


def test_a_removed_document_leaves_the_cache(corpus, tmp_path):
    cache = tmp_path / "cache"
    loaded(corpus, cache)
    last = sorted((corpus / "corpus/documents").glob("*.txt"))[-1]
    last.unlink()
    (corpus / "corpus/annotations" / (last.stem + ".yaml")).unlink()
    assert loaded(corpus, cache) == loaded(corpus)
    assert not list(cache.glob(last.stem + ".*"))


def facts_of(data) -> list[str]:
    """The build's facts and their evidence (every graph but the derivation records, whose premise
    order is the inference engine's concern), blank nodes aside."""
    store = open_current(StoreLayout(data))
    graphs = [Graphs.ENTITIES, Graphs.ASSERTED, Graphs.INFERRED]
    quads = [q for g in graphs for q in store.quads_for_pattern(None, None, None, ox.NamedNode(str(g)))]
    quads += [q for q in store.quads_for_pattern(None, None, None, ox.NamedNode(str(Graphs.PROVENANCE)))
              if "/derivation/" not in q.subject.value]
    return sorted(str(q) for q in quads)


def test_an_incremental_build_is_the_full_build(corpus, tmp_path):
    incremental = tmp_path / "incremental"
    build(StoreLayout(incremental), paths_of(corpus))
    change_one_document(corpus, tmp_path)
    build(StoreLayout(incremental), paths_of(corpus))
    assert (incremental / PARSE_CACHE).is_dir()
    full = tmp_path / "full"
    build(StoreLayout(full), paths_of(corpus))
    assert facts_of(incremental) == facts_of(full)


def add_one_document(root):
    """A new document: the first one's text and annotations under a new name (the same entities, declared
    alike, and the same facts with evidence of their own)."""
    for folder, suffix in (("corpus/documents", ".txt"), ("corpus/annotations", ".yaml")):
        first = sorted((root / folder).glob("*" + suffix))[0]
        text = first.read_text(encoding="utf-8")
        if suffix == ".yaml":
            text = text.replace(f"document: {first.stem}.txt", "document: added.txt", 1)
        (root / folder / f"added{suffix}").write_text(text, encoding="utf-8")


def test_an_incremental_build_after_adding_a_document_is_the_full_build(corpus, tmp_path):
    incremental = tmp_path / "incremental"
    build(StoreLayout(incremental), paths_of(corpus))
    before = facts_of(incremental)
    add_one_document(corpus)
    build(StoreLayout(incremental), paths_of(corpus))
    full = tmp_path / "full"
    build(StoreLayout(full), paths_of(corpus))
    assert facts_of(incremental) == facts_of(full) != before
    assert any("/document/added>" in quad for quad in facts_of(full))
