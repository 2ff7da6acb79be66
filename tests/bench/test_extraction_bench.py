"""The extraction benchmark's held-out mode: the held-out document is scored apart as unseen, with timings."""

from bench.extraction import main
from graph.build import SourcePaths
from loaders.annotations import CuratedAnnotations
from loaders.documents import read_documents
from loaders.extraction import known_entities, known_exchanges

PATHS = SourcePaths()


def test_a_held_out_document_is_scored_apart_as_unseen(capsys):
    documents = [d for d in read_documents(PATHS.documents)]
    first, second = documents[0].stem[:3], documents[1].stem[:3]
    assert main(["--blank", "--documents", first, second, "--hold-out", second]) == 0
    out = capsys.readouterr().out
    seen, unseen = out.split("unseen (held out: ")
    assert documents[0].stem[:20] in seen and documents[1].stem[:20] not in seen
    assert documents[1].stem[:20] in unseen and "releases (who, by, to)" in unseen
    assert "pipeline load" in out and f"  {documents[1].stem[:24]}: " in out  # time per document


def test_held_out_documents_give_the_lexicon_no_entities_or_exchanges():
    name = next(d.name for d in read_documents(PATHS.documents)
                if any(e.curie.startswith("exchange:") for e in _own_entities(d.name)))
    own = {e.curie for e in _own_entities(name)}
    kept = {e.curie for e in known_entities(PATHS.registry, PATHS.annotations, PATHS.documents, leave_out={name})[0]}
    registry = {e.curie for e in known_entities(PATHS.registry, PATHS.annotations, PATHS.documents,
                                                leave_out={d.name for d in read_documents(PATHS.documents)})[0]}
    assert own - registry and not (own - registry) & kept
    linked = {e.curie for e in known_exchanges(PATHS.annotations, PATHS.documents, leave_out={name})}
    assert not (own - registry) & linked


def _own_entities(name):
    document = next(d for d in read_documents(PATHS.documents) if d.name == name)
    return CuratedAnnotations(PATHS.annotations).extract(document).entities
