"""The synthetic corpus for the build benchmark: documents, annotation files and a registry in the project's formats.

Each synthetic document reports a few exchanges in the shapes of the real annotations: exchanges
with parties, dates, venues and sometimes legs, releases of named people and of groups, count
claims (some conflicting), ordinal claims ("the 3rd exchange of 2019"), negotiations and mediator
roles, every fact with a quote found verbatim in the document. The same seed gives the same files.

    python -m bench.generate --asserted 100000 --out /tmp/corpus-100k
"""

import argparse
import random
import shutil
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXCHANGES_PER_DOCUMENT = 12
ASSERTED_PER_EXCHANGE = 50  # measured on generated corpora (asserted + registry triples), for sizing
STATE_COUNT = 40
FIRST = ("Anna", "Boris", "Clara", "Dmitri", "Elena", "Farid", "Greta", "Hugo", "Irina", "Jonas",
         "Katya", "Leon", "Mira", "Nikolai", "Olga", "Pavel", "Rosa", "Sergei", "Tamara", "Viktor")
LAST = ("Abel", "Brandt", "Costa", "Dorn", "Ekberg", "Falk", "Gorin", "Holt", "Ivers", "Jansen",
        "Kovac", "Lind", "Moser", "Novak", "Orlov", "Petrov", "Quint", "Rask", "Stahl", "Tarkov")
OCCUPATIONS = ("journalist", "businessman", "pilot", "student", "officer", "engineer", "teacher")
CATEGORIES = ("prisoners of war", "civilians", "detainees", "service members")


@dataclass(frozen=True)
class Sizes:
    documents: int
    exchanges_per_document: int


def sizes_for(asserted: int) -> Sizes:
    exchanges = max(1, round(asserted / ASSERTED_PER_EXCHANGE))
    per_document = min(EXCHANGES_PER_DOCUMENT, exchanges)
    return Sizes(max(1, round(exchanges / per_document)), per_document)


def state_name(index: int) -> str:
    return f"Republic of {LAST[index % len(LAST)]}ia {index // len(LAST) + 1}"


class DocumentWriter:
    """One document's text and its annotation file, written fact by fact so that quotes are verbatim."""

    def __init__(self, stem: str):
        self.stem = stem
        self.sentences: list[str] = []
        self.entities: list[str] = []
        self.facts: list[str] = []

    def entity(self, curie: str, kind: str, label: str):
        self.entities.append(f"  {curie}:\n    type: {kind}\n    label: {_yaml_string(label)}\n")

    def fact(self, sentence: str, turtle: str, quote: str | None = None):
        """Add a sentence to the text and a fact quoting it (or the part `quote` of it)."""
        self.sentences.append(sentence)
        body = "".join("      " + line.strip() + "\n" for line in turtle.strip().splitlines())
        self.facts.append(f"  - quote: {_yaml_string(quote or sentence)}\n    turtle: |\n{body}")

    def text(self) -> str:
        paragraphs = [" ".join(self.sentences[i:i + 6]) for i in range(0, len(self.sentences), 6)]
        return "\n\n".join(paragraphs) + "\n"

    def annotations(self) -> str:
        return (f"document: {self.stem}.txt\nmetadata:\n  kind: news\n  language: en\n\n"
                "entities:\n" + "".join(self.entities) + "\nfacts:\n" + "".join(self.facts))


def _yaml_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def write_exchange(doc: DocumentWriter, rng: random.Random, number: int, ordinal_counts: dict):
    """The facts of one exchange: about ASSERTED_PER_EXCHANGE triples with their sentences."""
    ex = f"exchange:gen-{number}"
    a, b = rng.sample(range(STATE_COUNT), 2)
    state_a, state_b = f"state:gen-{a}", f"state:gen-{b}"
    year = 2000 + rng.randrange(25)
    date = f"{year}-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}"
    doc.entity(ex, "Exchange", f"Synthetic exchange {number}")
    doc.fact(f"On {date}, {state_name(a)} and {state_name(b)} carried out prisoner exchange number {number}.",
             f'{ex} a sg:Exchange ; sg:status sg:done ; sg:date "{date}"^^xsd:date ; sg:party {state_a} , {state_b} .')
    people = []
    for side, (state, other, state_index) in enumerate(((state_a, state_b, a), (state_b, state_a, b))):
        person = f"person:gen-{number}-{side}"
        name = f"{rng.choice(FIRST)} {rng.choice(LAST)} {number}-{side}"
        people.append(person)
        doc.entity(person, "Person", name)
        release = f"release:gen-{number}-{side}"
        doc.fact(f"{state_name(state_index)} released {name}, a {rng.choice(OCCUPATIONS)}, in exchange {number}.",
                 f"{release} a sg:Release ; sg:status sg:done ; sg:releasedPerson {person} ; sg:releasingState {state} ;"
                 f" sg:receivingState {other} ; sg:inExchange {ex} .\n"
                 f"{person} a sg:Detainee ; sg:citizenship {other} .")
    if rng.random() < 0.4:  # a group released beside the named person: not a sole pair any more
        group, count = f"group:gen-{number}", rng.randrange(2, 60)
        doc.fact(f"In exchange {number} {state_name(a)} also freed {count} {CATEGORIES[number % 4]}.",
                 f'{group} a sg:DetaineeGroup ; sg:status sg:done ; sg:count {count} ; sg:category "{CATEGORIES[number % 4]}" .\n'
                 f"release:gen-{number}-group a sg:Release ; sg:status sg:done ; sg:releasedGroup {group} ;"
                 f" sg:releasingState {state_a} ; sg:inExchange {ex} .")
    total = rng.randrange(2, 200)
    doc.fact(f"Officials said {total} people were freed in exchange {number}.",
             f'claim:gen-{number}-total a sg:CountClaim ; sg:status sg:done ; sg:aboutExchange {ex} ; sg:side {state_b} ;'
             f' sg:count {total} ; sg:category "people" .')
    if rng.random() < 0.15:  # another source disagrees
        other = total + rng.randrange(1, 9)
        doc.fact(f"Another account of exchange {number} gave {other} people.",
                 f'claim:gen-{number}-other a sg:CountClaim ; sg:status sg:done ; sg:aboutExchange {ex} ; sg:side {state_b} ;'
                 f' sg:count {other} ; sg:category "people" .')
    if rng.random() < 0.2:  # two legs with their own counts
        for leg in (1, 2):
            doc.fact(f"Leg {leg} of exchange {number} freed {total // 2} people on {date}.",
                     f'exchange:gen-{number}-leg{leg} a sg:ExchangeLeg ; sg:status sg:done ; sg:partOf {ex} ; sg:date "{date}"^^xsd:date .\n'

                     f'claim:gen-{number}-leg{leg} a sg:CountClaim ; sg:status sg:done ; sg:aboutExchange exchange:gen-{number}-leg{leg} ;'
                     f' sg:side {state_b} ; sg:count {total // 2} ; sg:category "people" .')
    if rng.random() < 0.5:
        write_ordinal(doc, rng, number, year, ordinal_counts)
    mediator = rng.randrange(STATE_COUNT)
    if mediator not in (a, b):
        doc.fact(f"{state_name(mediator)} mediated exchange {number}.",
                 f"role:gen-{number}-mediator a sg:Mediator ; sg:mediatorAgent state:gen-{mediator} ;"
                 f" sg:mediatedExchange {ex} .")
    negotiation = f"negotiation:gen-{number}"
    doc.entity(negotiation, "Negotiation", f"Talks before synthetic exchange {number}")
    doc.fact(f"Months of talks led to exchange {number}.",
             f"{negotiation} a sg:Negotiation ; sg:ledTo {ex} ; sg:aboutExchange {ex} .")


def write_ordinal(doc: DocumentWriter, rng: random.Random, number: int, year: int, ordinal_counts: dict):
    """"The n-th exchange of the year": half with sg:inYear, half with the scope in words only; a few
    give an ordinal another exchange of that year already has (a real conflict)."""
    ordinal_counts[year] = ordinal_counts.get(year, 0) + 1
    ordinal = ordinal_counts[year] - (1 if ordinal_counts[year] > 1 and rng.random() < 0.05 else 0)
    year_triple = f' ; sg:inYear "{year}"^^xsd:gYear' if number % 2 else ""
    doc.fact(f"Exchange {number} was number {ordinal} of the year {year}.",
             f'claim:gen-{number}-ordinal a sg:OrdinalClaim ; sg:aboutExchange exchange:gen-{number} ;'
             f' sg:ordinal {ordinal} ; sg:scope "of the year {year}"{year_triple} .')


def registry() -> str:
    lines = ["# Synthetic registry (bench/generate.py): the states every document may name.\n"]
    for index in range(STATE_COUNT):
        lines.append(f"state:gen-{index}:\n  type: State\n  label: {_yaml_string(state_name(index))}\n")
    return "".join(lines)


def generate(out: Path, asserted: int, seed: int = 1) -> Sizes:
    """Write out/corpus/{documents,annotations,entities.yaml} and out/ontology (a copy of the project's)."""
    sizes = sizes_for(asserted)
    rng = random.Random(seed)
    if out.exists():
        shutil.rmtree(out)
    documents, annotations = out / "corpus/documents", out / "corpus/annotations"
    documents.mkdir(parents=True)
    annotations.mkdir(parents=True)
    shutil.copytree(ROOT / "ontology", out / "ontology")
    (out / "corpus/entities.yaml").write_text(registry(), encoding="utf-8")
    ordinal_counts: dict = {}
    number = 0
    for index in range(sizes.documents):
        stem = f"gen_{index:06d}"
        doc = DocumentWriter(stem)
        for _ in range(sizes.exchanges_per_document):
            write_exchange(doc, rng, number, ordinal_counts)
            number += 1
        (documents / f"{stem}.txt").write_text(doc.text(), encoding="utf-8")
        (annotations / f"{stem}.yaml").write_text(doc.annotations(), encoding="utf-8")
    return sizes


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--asserted", type=int, required=True, help="about how many asserted triples")
    parser.add_argument("--out", type=Path, required=True, help="folder to write (replaced)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    sizes = generate(args.out, args.asserted, args.seed)
    print(f"{args.out}: {sizes.documents} documents x {sizes.exchanges_per_document} exchanges")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
