"""Extraction benchmark: the rule extractor's candidates scored against the reviewed facts, and its speed.

`python -m bench.extraction [--blank] [--documents 005 006]` runs the extractor on every document that has
reviewed facts and prints precision and recall per kind of fact, per document and overall, then speed
(documents and sentences per second, model load time) for the model pipeline and the blank pipeline side by
side in the same run. Facts are compared as keys that do not depend on the IRIs chosen for events: an
exchange date is its value, a release of a person is the person's name, a release by a state is the pair
(who, state) where a group stands for its count, and so on (`fact_keys`).
"""

import argparse
import sys
import time
from collections import defaultdict
from pathlib import Path

from rdflib import RDF, RDFS, Graph, URIRef

from graph.build import SourcePaths
from vocab import SG, TURTLE_PREFIXES, expand_iri
from loaders.annotations import CuratedAnnotations
from loaders.documents import read_documents
from loaders.errors import LoadError
from loaders.extraction import RuleExtractor, known_entities, known_exchanges, load_pipeline
from loaders.linking import fold

KINDS = ("exchange-date", "venue", "mediator", "party", "release-person", "release-by", "release-to",
         "release-exchange", "count",
         "citizenship", "occupation", "employer", "sentence", "exchanged-for", "left-out",
         "negotiation", "announced-by", "held-by", "charge")


def fact_graph(extraction, labels: dict) -> Graph:
    graph = Graph()
    for fact in extraction.facts:
        graph.parse(data=TURTLE_PREFIXES + fact.turtle, format="turtle")
    for decl in extraction.entities:
        iri = URIRef(expand_iri(decl.curie))
        labels.setdefault(iri, decl.label)
        if decl.type:
            graph.add((iri, RDF.type, SG[decl.type]))
    return graph


def fact_keys(graph: Graph, labels: dict) -> set[tuple]:
    """The facts of a graph as comparable keys, one set for all kinds (the first item names the kind)."""

    def name(node) -> str:
        label = labels.get(node) or graph.value(node, RDFS.label)
        return fold(str(label)) if label is not None and "/person/" in str(node) else str(node)

    def who(release) -> object | None:
        person = graph.value(release, SG.releasedPerson)
        if person is not None:
            return name(person)
        group = graph.value(release, SG.releasedGroup)
        if group is None:
            return None
        count = graph.value(group, SG.count) or graph.value(group, SG.minimumCount)
        return ("group", int(count)) if count is not None else None

    keys = set()
    for predicate in (SG.date, SG.startDate, SG.endDate):
        for node, value in graph.subject_objects(predicate):
            if (node, RDF.type, SG.Exchange) in graph or (node, RDF.type, SG.ExchangeLeg) in graph \
                    or "/exchange/" in str(node):
                keys.add(("exchange-date", str(value)))
    for venue in graph.objects(None, SG.venue):
        keys.add(("venue", fold(str(labels.get(venue, venue)))))
    for agent in graph.objects(None, SG.mediatorAgent):
        keys.add(("mediator", str(agent)))
    for agent in graph.objects(None, SG.party):
        keys.add(("party", str(agent)))
    for release in graph.subjects(RDF.type, SG.Release):
        subject = who(release)
        if subject is None:
            continue
        if graph.value(release, SG.releasedPerson) is not None:
            keys.add(("release-person", subject))
        for state in graph.objects(release, SG.releasingState):
            keys.add(("release-by", subject, str(state)))
        for state in graph.objects(release, SG.receivingState):
            keys.add(("release-to", subject, str(state)))
        for exchange in graph.objects(release, SG.inExchange):  # the IRI: right only when linked to the reviewed one
            keys.add(("release-exchange", subject, str(exchange)))
    for predicate in (SG.count, SG.minimumCount):
        for value in graph.objects(None, predicate):
            keys.add(("count", int(value)))
    for person, state in graph.subject_objects(SG.citizenship):
        if "/person/" in str(person):
            keys.add(("citizenship", name(person), str(state)))
    for person, value in graph.subject_objects(SG.occupation):
        keys.add(("occupation", name(person), fold(str(value))))
    for person, employer in graph.subject_objects(SG.employer):
        keys.add(("employer", name(person), str(employer)))
    for person, value in graph.subject_objects(SG.sentence):
        keys.add(("sentence", name(person), fold(str(value))))
    for a, b in graph.subject_objects(SG.exchangedFor):
        keys.add(("exchanged-for", *sorted((name(a), name(b)))))
    for person in graph.subjects(SG.excludedFrom, None):
        keys.add(("left-out", name(person)))
    for state in graph.objects(None, SG.participant):
        keys.add(("negotiation", str(state)))
    for agent in graph.objects(None, SG.announcedBy):
        keys.add(("announced-by", str(agent)))
    for person, state in graph.subject_objects(SG.heldBy):
        if "/person/" in str(person):
            keys.add(("held-by", name(person), str(state)))
    for person, value in graph.subject_objects(SG.charge):
        keys.add(("charge", name(person), fold(str(value))))
    return keys


# The aim, on texts the extractor has never seen: P >= 0.85 at R >= 0.6 for these groups of kinds.
TARGETS = {"releases (who, by, to)": ("release-person", "release-by", "release-to"),
           "exchanges (date, venue, mediator)": ("exchange-date", "venue", "mediator"),
           "counts": ("count",)}
AIM = (0.85, 0.6)


def target_rows(per_kind: dict) -> list[tuple[str, int, int, int]]:
    return [(name, *(sum(per_kind[kind][i] for kind in kinds) for i in range(3))) for name, kinds in TARGETS.items()]


def aim_met(right: int, found: int, gold: int) -> str:
    if not gold:
        return "no reviewed facts of these kinds"
    return "meets the aim" if found and gold and right / found >= AIM[0] and right / gold >= AIM[1] else "below the aim"


def score(gold: set, found: set) -> tuple[int, int, int]:
    return len(gold & found), len(found), len(gold)


def ratio(a: int, b: int) -> str:
    return f"{a / b:.2f}" if b else "  - "


def table(rows: list[tuple[str, int, int, int]], title: str) -> str:
    lines = [title, f"{'':34} {'P':>5} {'R':>5} {'found':>6} {'gold':>5} {'right':>6}"]
    for label, right, found, gold in rows:
        lines.append(f"{label:34} {ratio(right, found):>5} {ratio(right, gold):>5} {found:>6} {gold:>5} {right:>6}")
    return "\n".join(lines)


def _matches(document, prefixes: list[str]) -> bool:
    return any(document.stem.startswith(prefix) or document.name == prefix for prefix in prefixes)


def _print_scores(per_kind: dict, per_document: list, title: str):
    overall = [sum(values[i] for values in per_kind.values()) for i in range(3)]
    print(table([(kind, *per_kind[kind]) for kind in KINDS] + [("overall", *overall)], title))
    print()
    targets = target_rows(per_kind)
    print(table(targets, f"aim: P >= {AIM[0]} at R >= {AIM[1]}"))
    for name, *counts in targets:
        print(f"  {name}: {aim_met(*counts)}")
    print()
    print(table(per_document, "per document"))


def _print_misses(stem: str, gold: set, found: set):
    """What a document's reviewed facts have that the candidates lack, and what the candidates add."""
    for label, keys in (("missed", gold - found), ("wrong", found - gold)):
        for key in sorted(keys, key=str):
            print(f"  {stem[:3]} {label}: {key}")


def run(paths: SourcePaths, only: list[str], blank: bool, hold_out: list[str] = (), misses: list[str] = ()) -> int:
    """Score every document with reviewed facts; `hold_out` documents are scored apart as unseen, and their
    reviewed entities are not in the linking lexicon of any document; `misses` lists a document's misses."""
    started = time.perf_counter()
    nlp = load_pipeline(use_model=not blank)
    load_seconds = time.perf_counter() - started
    all_documents = read_documents(paths.documents)
    held = {d.name for d in all_documents if _matches(d, list(hold_out))}
    decls, dates = known_entities(paths.registry, paths.annotations, paths.documents)
    labels = {URIRef(expand_iri(d.curie)): d.label for d in decls if d.label}
    reviewed = CuratedAnnotations(paths.annotations)
    kinds = {False: defaultdict(lambda: [0, 0, 0]), True: defaultdict(lambda: [0, 0, 0])}  # seen, unseen
    documents_of = {False: [], True: []}
    seconds, sentences, timings = 0.0, 0, []
    for document in all_documents:
        if only and not _matches(document, only):
            continue
        try:
            gold_extraction = reviewed.extract(document)
        except LoadError:
            continue
        if not gold_extraction.facts:
            continue  # nothing reviewed yet: nothing to score against
        gold = fact_keys(fact_graph(gold_extraction, labels), labels)
        # Leave the document out: its own reviewed entities would tell the linker the answers.
        leave_out = held | {document.name}
        extractor = RuleExtractor(known_entities(paths.registry, paths.annotations, paths.documents,
                                                 leave_out=leave_out)[0], nlp, dates,
                                  exchanges=known_exchanges(paths.annotations, paths.documents, leave_out))
        began = time.perf_counter()
        extraction = extractor.extract(document)
        elapsed = time.perf_counter() - began
        seconds += elapsed
        count = len(extractor.sentences(document))  # outside the timed part
        sentences += count
        timings.append((document.stem[:24], elapsed, count))
        found = fact_keys(fact_graph(extraction, dict(labels)), labels)
        unseen = document.name in held
        for kind in KINDS:
            got = score({k for k in gold if k[0] == kind}, {k for k in found if k[0] == kind})
            kinds[unseen][kind] = [a + b for a, b in zip(kinds[unseen][kind], got)]
        documents_of[unseen].append((document.stem[:24], *score(gold, found)))
        if _matches(document, list(misses)):
            _print_misses(document.stem, gold, found)
    pipeline = "blank pipeline" if blank else "en_core_web_sm 3.8.0"
    if documents_of[False]:
        _print_scores(kinds[False], documents_of[False], f"extraction ({pipeline}): per kind of fact")
    if documents_of[True]:
        print()
        _print_scores(kinds[True], documents_of[True], f"unseen (held out: {', '.join(sorted(held))}; its entities "
                      f"not in the lexicon) ({pipeline}): per kind of fact")
    print()
    documents = len(timings)
    print(f"speed: {documents} documents, {sentences} sentences in {seconds:.2f}s "
          f"({documents / seconds:.1f} documents/s, {sentences / seconds:.0f} sentences/s, "
          f"{seconds / max(documents, 1):.3f}s per document); "
          f"pipeline load {load_seconds:.2f}s")
    for stem, elapsed, count in timings:
        print(f"  {stem}: {elapsed:.3f}s ({count} sentences)")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.extraction", description=__doc__.splitlines()[0])
    parser.add_argument("--blank", action="store_true", help="only the blank pipeline (no model)")
    parser.add_argument("--documents", nargs="*", default=[], help="document stems or numbers (default: all)")
    parser.add_argument("--sources", help="project folder holding corpus/ (default: this checkout)")
    parser.add_argument("--hold-out", nargs="*", default=[], metavar="DOC",
                        help="documents scored apart as unseen; their reviewed entities are linked for none")
    parser.add_argument("--misses", nargs="*", default=[], metavar="DOC",
                        help="list the facts missed and the wrong candidates of these documents")
    args = parser.parse_args(argv)
    paths = SourcePaths.under(Path(args.sources)) if args.sources else SourcePaths()
    run(paths, args.documents, blank=True, hold_out=args.hold_out, misses=args.misses)
    if not args.blank:
        print("\n" + "=" * 72 + "\n")
        run(paths, args.documents, blank=False, hold_out=args.hold_out, misses=args.misses)
    return 0


if __name__ == "__main__":
    sys.exit(main())
