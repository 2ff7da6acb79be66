"""The canned-question catalogue: `queries/*.rq` with their headers, read and checked once at start-up."""

from __future__ import annotations

import re
import sys
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from urllib.parse import parse_qsl

import pyoxigraph as ox

from rdflib.namespace import XSD

from vocab import SPARQL_PREFIXES, expand_iri

ROOT = Path(__file__).resolve().parent.parent
QUERIES_DIR = ROOT / "queries"
README_START = "<!-- queries:start -->"
README_END = "<!-- queries:end -->"

PARAM_TYPES = ("iri", "string", "integer", "decimal", "date", "boolean")
HEADER_KEYS = ("title", "description", "param", "default", "allowed", "example", "empty", "chart")
NAME_RE = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
VAR_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
HEADER_RE = re.compile(r"^#\s*([A-Za-z_-]+)\s*:\s?(.*)$")
CONTINUATION_RE = re.compile(r"^#\s{2,}(\S.*)$")


# ---------------------------------------------------------------- errors


@dataclass(frozen=True)
class Issue:
    path: Path
    line: int
    message: str

    def __str__(self) -> str:
        try:
            shown = self.path.relative_to(ROOT)
        except ValueError:
            shown = self.path
        return f"{shown}:{self.line}: {self.message}"


class CatalogError(Exception):
    """One or more canned-query files are wrong; each issue names its file and line."""

    def __init__(self, issues: list[Issue]):
        self.issues = issues
        super().__init__("\n".join(str(issue) for issue in issues))


class UnknownQuery(KeyError):
    """No canned query of that name."""

    def __init__(self, name: str, known: Iterable[str]):
        self.name, self.known = name, sorted(known)
        super().__init__(name)

    def __str__(self) -> str:
        return f"no canned query named {self.name!r}; known: {', '.join(self.known)}"


class ParameterError(ValueError):
    """A request parameter is missing, unknown or not an allowed value; `code` is stable (→ 422)."""

    def __init__(self, code: str, param: str, message: str, allowed: list[dict] | None = None):
        self.code, self.param, self.allowed = code, param, allowed
        super().__init__(message)


# ---------------------------------------------------------------- model


@dataclass(frozen=True)
class AllowedValue:
    """One value a parameter may take: its N-Triples-ready term, a display label, and aliases."""

    term: ox.NamedNode | ox.Literal
    label: str
    aliases: tuple[str, ...] = ()

    @property
    def value(self) -> str:
        return self.term.value

    def as_dict(self) -> dict:
        return {"value": self.value, "label": self.label}


@dataclass(frozen=True)
class Param:
    name: str
    type: str
    required: bool
    line: int
    default: str | None = None
    allowed_query: str | None = None  # full SPARQL selecting ?value ?label ?alias
    allowed_fixed: tuple[str, ...] | None = None

    def as_dict(self) -> dict:
        out = {"name": self.name, "type": self.type, "required": self.required}
        if self.default is not None:
            out["default"] = self.default
        if self.allowed_fixed is not None:
            out["allowed"] = list(self.allowed_fixed)
        elif self.allowed_query is not None:
            out["allowed_from_graph"] = True
        return out


@dataclass(frozen=True)
class CannedQuery:
    name: str
    path: Path
    title: str
    description: str
    sparql: str
    columns: tuple[str, ...]
    params: tuple[Param, ...] = ()
    example: str | None = None
    empty: str | None = None  # the plain statement for an empty answer, `{param}` replaced by its label
    chart: str | None = None  # `VALUE LABEL | title | value axis` for the bar chart of its rows, or `none`

    def param(self, name: str) -> Param | None:
        return next((p for p in self.params if p.name == name), None)

    def as_dict(self) -> dict:
        return {
            "name": self.name,
            "title": self.title,
            "description": self.description,
            "url": f"/queries/{self.name}",
            "parameters": [p.as_dict() for p in self.params],
            "columns": list(self.columns),
            "example": f"/queries/{self.name}" + (f"?{self.example}" if self.example else ""),
            **({"empty": self.empty} if self.empty else {}),
        }

    def empty_statement(self, labels: dict[str, str]) -> str | None:
        """The plain statement for an empty answer, when every parameter it names was given."""
        if not self.empty:
            return None
        try:
            return self.empty.format(**labels)
        except (KeyError, IndexError, ValueError):
            return None


# ---------------------------------------------------------------- terms


def normalize_label(text: str) -> str:
    """Case, accents, typographic apostrophes and dashes do not make another name."""
    text = unicodedata.normalize("NFKD", text.strip().casefold())
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return text.replace("\u2019", "'").replace("\u2018", "'").replace("\u2013", "-").replace("\u2014", "-")


def literal(param_type: str, raw: str) -> ox.Literal:
    """The typed literal for a raw value; ValueError when it does not fit the type."""
    raw = raw.strip()
    if param_type == "string":
        return ox.Literal(raw)
    if param_type == "integer":
        if not re.fullmatch(r"[+-]?\d+", raw):
            raise ValueError("expected an integer")
        return ox.Literal(str(int(raw)), datatype=ox.NamedNode(str(XSD.integer)))
    if param_type == "decimal":
        if not re.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)", raw):
            raise ValueError("expected a decimal number")
        return ox.Literal(raw, datatype=ox.NamedNode(str(XSD.decimal)))
    if param_type == "date":
        date.fromisoformat(raw)
        return ox.Literal(raw, datatype=ox.NamedNode(str(XSD.date)))
    if param_type == "boolean":
        if raw.lower() not in ("true", "false"):
            raise ValueError("expected true or false")
        return ox.Literal(raw.lower(), datatype=ox.NamedNode(str(XSD.boolean)))
    raise ValueError(f"unknown type {param_type}")


def sample_term(param: Param) -> ox.NamedNode | ox.Literal:
    """A well-typed stand-in used to check that the engine accepts the substitution."""
    samples = {"iri": None, "string": "x", "integer": "1", "decimal": "1.0", "date": "2000-01-01", "boolean": "true"}
    if param.type == "iri":
        return ox.NamedNode("urn:swapgraph:check")
    return literal(param.type, samples[param.type])


# ---------------------------------------------------------------- parsing


def allowed_query(select: str) -> str:
    """Wrap a header's `SELECT ?value WHERE {…}` so it also yields each value's label and aliases."""
    return (SPARQL_PREFIXES + "SELECT DISTINCT ?value ?label ?alias WHERE {\n"
            f"  {{ {select} }}\n"
            "  OPTIONAL { ?value rdfs:label ?label }\n"
            "  OPTIONAL { ?value skos:altLabel|sg:isoCode ?alias }\n"
            "}")


def class_query(classes: list[str]) -> str:
    """`allowed: NAME a sg:State sg:Organization`: the instances of those classes."""
    values = " ".join(f"<{iri}>" for iri in classes)
    return allowed_query(f"SELECT DISTINCT ?value WHERE {{ VALUES ?class {{ {values} }} ?value a ?class }}")


class _FileParser:
    def __init__(self, path: Path):
        self.path = path
        self.issues: list[Issue] = []

    def issue(self, line: int, message: str) -> None:
        self.issues.append(Issue(self.path, line, message))

    def header(self, lines: list[str]) -> list[tuple[int, str, str]]:
        """(line, key, value) for each header entry; continuation lines appended to the previous value."""
        entries: list[list] = []
        for number, line in enumerate(lines, start=1):
            stripped = line.rstrip()
            if not stripped.startswith("#"):
                break
            if stripped.strip("# ") == "":
                continue
            cont = CONTINUATION_RE.match(stripped)
            if cont and entries:
                entries[-1][2] += " " + cont.group(1).strip()
                continue
            match = HEADER_RE.match(stripped)
            if not match:
                self.issue(number, f"header line is not `# key: value`: {stripped[:60]!r}")
                continue
            key, value = match.group(1).lower(), match.group(2).strip()
            if key not in HEADER_KEYS:
                self.issue(number, f"unknown header key {key!r} (known: {', '.join(HEADER_KEYS)})")
                continue
            entries.append([number, key, value])
        return [tuple(e) for e in entries]

    def parse(self) -> CannedQuery | None:
        name = self.path.stem
        if not NAME_RE.match(name):
            self.issue(1, f"file name {name!r} must be lower-case words joined by hyphens")
        text = self.path.read_text(encoding="utf-8")
        entries = self.header(text.splitlines())
        title = description = example = empty = chart = None
        params: dict[str, dict] = {}
        for line, key, value in entries:
            if key == "title":
                if title is not None:
                    self.issue(line, "title given twice")
                title = value
            elif key == "description":
                description = value if description is None else description + " " + value
            elif key == "example":
                example = value.lstrip("?")
            elif key == "empty":
                empty = value
            elif key == "chart":
                chart = value
            elif key == "param":
                self._param(line, value, params)
            else:  # default, allowed: NAME rest
                pname, _, rest = value.partition(" ")
                if pname not in params:
                    self.issue(line, f"{key}: parameter {pname!r} is not declared above by `# param:`")
                    continue
                if key in params[pname]:
                    self.issue(line, f"{key} given twice for {pname}")
                    continue
                params[pname][key] = (line, rest.strip())
        if not title:
            self.issue(1, "missing `# title:`")
        if not description:
            self.issue(1, "missing `# description:`")
        built = [self._build_param(spec) for spec in params.values()]
        columns = self._check_sparql(text, [p for p in built if p])
        if example is not None:
            line = next(ln for ln, key, _ in entries if key == "example")
            for key, _ in parse_qsl(example, keep_blank_values=True):
                if key not in params:
                    self.issue(line, f"example uses {key!r}, which is not a parameter")
        for param in built:
            if param and param.default is not None:
                try:
                    check_default(param)
                except ValueError as exc:
                    self.issue(param.line, f"default of {param.name}: {exc}")
        if chart is not None and chart != "none" and columns is not None:
            line = next(ln for ln, key, _ in entries if key == "chart")
            names, *words = [part.strip() for part in chart.split("|")]
            if len(names.split()) != 2 or len(words) != 2 or not all(words):
                self.issue(line, "chart: expected `VALUE LABEL | title | value axis` or `none`")
            for column in names.split():
                if column not in columns:
                    self.issue(line, f"chart: {column!r} is not a column of the query")
        if self.issues or columns is None:
            return None
        return CannedQuery(name=name, path=self.path, title=title, description=description, sparql=text,
                           columns=tuple(columns), params=tuple(built), example=example, empty=empty, chart=chart)

    def _param(self, line: int, value: str, params: dict) -> None:
        words = value.split()
        if len(words) != 3:
            self.issue(line, "param: expected `NAME TYPE required|optional`")
            return
        pname, ptype, need = words
        if not VAR_RE.match(pname):
            self.issue(line, f"param name {pname!r} must be a SPARQL variable name")
        elif pname in params:
            self.issue(line, f"param {pname} declared twice")
        elif ptype not in PARAM_TYPES:
            self.issue(line, f"param type {ptype!r} is not one of {', '.join(PARAM_TYPES)}")
        elif need not in ("required", "optional"):
            self.issue(line, f"param {pname}: say `required` or `optional`, not {need!r}")
        else:
            params[pname] = {"name": pname, "type": ptype, "required": need == "required", "line": line}

    def _build_param(self, spec: dict) -> Param | None:
        allowed = allowed_fixed = default = None
        if "allowed" in spec:
            line, rest = spec["allowed"]
            if re.match(r"(?is)^select\b", rest):
                allowed = allowed_query(rest)
                self._check_allowed_query(line, allowed)
            elif rest.startswith("a "):
                classes = []
                for curie in rest[2:].split():
                    iri = expand_iri(curie)
                    if iri is None:
                        self.issue(line, f"allowed: {curie!r} is not a class IRI or known CURIE")
                    classes.append(iri)
                allowed = class_query([c for c in classes if c])
            else:
                allowed_fixed = tuple(v.strip() for v in rest.split("|") if v.strip())
                if not allowed_fixed:
                    self.issue(line, "allowed: give `a CLASS…`, `SELECT ?value WHERE {…}`, or values separated by |")
                for value in allowed_fixed:
                    try:
                        if spec["type"] == "iri":
                            if expand_iri(value) is None:
                                raise ValueError("not an IRI or known CURIE")
                        else:
                            literal(spec["type"], value)
                    except ValueError as exc:
                        self.issue(line, f"allowed value {value!r} for {spec['name']}: {exc}")
        if "default" in spec:
            line, default = spec["default"]
            if not default:
                self.issue(line, f"default of {spec['name']} is empty")
        return Param(name=spec["name"], type=spec["type"], required=spec["required"], line=spec["line"],
                     default=default, allowed_query=allowed, allowed_fixed=allowed_fixed)

    def _check_allowed_query(self, line: int, query: str) -> None:
        try:
            result = ox.Store().query(query)
        except SyntaxError as exc:
            self.issue(line, f"allowed query does not parse: {exc}")
            return
        if not isinstance(result, ox.QuerySolutions) or "value" not in [v.value for v in result.variables]:
            self.issue(line, "allowed query must be a SELECT projecting ?value (and ?label)")

    def _check_sparql(self, text: str, params: list[Param]) -> list[str] | None:
        store = ox.Store()
        try:
            result = store.query(text)
        except SyntaxError as exc:
            match = re.search(r"at (\d+):(\d+)", str(exc))
            self.issue(int(match.group(1)) if match else 1, f"SPARQL does not parse: {exc}")
            return None
        if not isinstance(result, ox.QuerySolutions):
            self.issue(1, "a canned query must be a SELECT query")
            return None
        columns = [v.value for v in result.variables]
        for param in params:
            if param.name not in columns:
                self.issue(param.line, f"parameter {param.name} is not a variable in the SELECT projection "
                                       f"(substitution needs ?{param.name} projected)")
        try:
            store.query(text, substitutions={ox.Variable(p.name): sample_term(p) for p in params})
        except (SyntaxError, RuntimeError) as exc:
            self.issue(1, f"the engine refuses the parameter substitution: {exc}")
            return None
        return columns


def check_default(param: Param) -> None:
    if param.type == "iri":
        if expand_iri(param.default) is None and param.allowed_query is None:
            raise ValueError("an IRI default must be an IRI or CURIE")
    else:
        literal(param.type, param.default)
    if param.allowed_fixed is not None and param.default not in param.allowed_fixed:
        raise ValueError(f"{param.default!r} is not among the allowed values")


def term_from_nt(text: str) -> ox.NamedNode | ox.Literal:
    """An IRI or literal written in N-Triples (`str()` of a pyoxigraph term)."""
    if text.startswith("<") and text.endswith(">"):
        return ox.NamedNode(text[1:-1])
    return next(iter(ox.parse(f"<urn:s> <urn:p> {text} .".encode("utf-8"), format=ox.RdfFormat.N_TRIPLES))).object


def saved_values(entries: list) -> list[AllowedValue]:
    """Allowed values as graph.summary saves them: [value as N-Triples, label, aliases]."""
    return [AllowedValue(term_from_nt(value), label, tuple(aliases)) for value, label, aliases in entries]


# ---------------------------------------------------------------- catalogue


Runner = Callable[[str], list[dict]]  # SPARQL text -> rows of {variable: pyoxigraph term}


def _dataset_key(run: Runner) -> object:
    """Allowed values are cached per dataset: a runner may name its dataset with `.dataset_key`."""
    return getattr(run, "dataset_key", None) or id(run)


@dataclass
class Catalog:
    """Every canned question by name. No HTTP here: the api serves them.

    `Catalog.load(folder)` parses every file and raises `CatalogError` (naming file and line) listing
    all the problems of the folder; `bind()` turns request parameters into substitutions (pyoxigraph
    terms, never query text); `python -m graph.catalog --markdown` prints the README table. The
    header grammar is documented in queries/README.md.
    """

    queries: dict[str, CannedQuery]
    _allowed: dict[tuple, tuple] = field(default_factory=dict, repr=False)

    @classmethod
    def load(cls, folder: Path = QUERIES_DIR) -> Catalog:
        issues: list[Issue] = []
        queries: dict[str, CannedQuery] = {}
        files = sorted(Path(folder).glob("*.rq"))
        if not files:
            raise CatalogError([Issue(Path(folder), 0, "no .rq files")])
        for path in files:
            parser = _FileParser(path)
            query = parser.parse()
            issues += parser.issues
            if query:
                queries[query.name] = query
        if issues:
            raise CatalogError(issues)
        return cls(queries)

    def __iter__(self):
        return iter(self.queries.values())

    def __len__(self) -> int:
        return len(self.queries)

    def get(self, name: str) -> CannedQuery:
        try:
            return self.queries[name]
        except KeyError:
            raise UnknownQuery(name, self.queries) from None

    # ---- allowed values

    def allowed(self, query: CannedQuery, param: Param, run: Runner) -> list[AllowedValue] | None:
        """The values a parameter may take (None: any value of its type). Graph lookups come from the
        build's summary when the runner carries it (`run.saved_allowed`, graph.summary), else from one
        query; either way once per dataset."""
        if param.allowed_fixed is not None:
            values = []
            for raw in param.allowed_fixed:
                term = ox.NamedNode(expand_iri(raw)) if param.type == "iri" else literal(param.type, raw)
                values.append(AllowedValue(term, raw))
            return values
        if param.allowed_query is None:
            return None
        return self._graph_lookup(param, run)[0]

    def graph_values(self, param: Param, run: Runner) -> list[AllowedValue]:
        """The values `param`'s allowed-values query finds through `run`, each with its first label and
        its aliases, by label then IRI (engines, and one engine's stores, give rows in different orders)."""
        merged: dict[str, dict] = {}
        for row in run(param.allowed_query):
            term = row.get("value")
            if term is None:
                continue
            entry = merged.setdefault(term.value, {"term": term, "label": None, "aliases": []})
            label, alias = row.get("label"), row.get("alias")
            if label is not None and (entry["label"] is None or label.value < entry["label"]):
                entry["label"] = label.value
            if alias is not None:
                entry["aliases"].append(alias.value)
        values = [AllowedValue(e["term"], e["label"] or e["term"].value, tuple(sorted(set(e["aliases"]))))
                  for e in merged.values()]
        return sorted(values, key=lambda v: (v.label.casefold(), v.label, v.value))

    def _graph_lookup(self, param: Param, run: Runner) -> tuple[list[AllowedValue], dict, dict]:
        """(values, position by IRI, position by normalised label or alias): made once per dataset, so
        that resolving a value is two dictionary lookups, not a pass over every allowed value."""
        key = (_dataset_key(run), param.allowed_query)
        if key not in self._allowed:
            saved = (getattr(run, "saved_allowed", None) or {}).get(param.allowed_query)
            values = saved_values(saved) if saved is not None else self.graph_values(param, run)
            by_iri, by_name = {}, {}
            for position, value in enumerate(values):
                by_iri.setdefault(value.value, position)
                for name in (value.label, *value.aliases):
                    by_name.setdefault(normalize_label(name), position)
            self._allowed[key] = (values, by_iri, by_name)
        return self._allowed[key]

    # ---- binding

    def bind(self, query: CannedQuery, raw: Mapping[str, str], run: Runner,
             ignore: Iterable[str] = ()) -> dict[str, ox.NamedNode | ox.Literal]:
        """Request parameters -> {variable name: term} for substitution; ParameterError if any is wrong.

        Empty values count as not given. Keys in `ignore` (format, evidence, …) are not parameters.
        """
        ignore = set(ignore)
        for key in raw:
            if key not in ignore and query.param(key) is None:
                known = ", ".join(p.name for p in query.params) or "none"
                raise ParameterError("unknown_parameter", key,
                                     f"{query.name} has no parameter {key!r} (parameters: {known})")
        bound = {}
        for param in query.params:
            value = (raw.get(param.name) or "").strip() or param.default
            if value is None:
                if param.required:
                    raise ParameterError("missing_parameter", param.name,
                                         f"parameter {param.name!r} is required",
                                         self._listing(query, param, run))
                continue
            bound[param.name] = self.resolve(query, param, value, run)
        return bound

    def resolve(self, query: CannedQuery, param: Param, value: str, run: Runner):
        allowed = self.allowed(query, param, run)
        if param.type != "iri":
            try:
                term = literal(param.type, value)
            except ValueError as exc:
                raise ParameterError("invalid_value", param.name,
                                     f"{param.name}={value!r}: {exc}", self._listing(query, param, run)) from None
            if allowed is not None and term not in {a.term for a in allowed}:
                raise ParameterError("unknown_value", param.name, f"{param.name}={value!r} is not an allowed value",
                                     [a.as_dict() for a in allowed])
            return term
        iri = expand_iri(value)
        if allowed is None:
            if iri is None:
                raise ParameterError("invalid_value", param.name, f"{param.name}={value!r} is not an IRI")
            return ox.NamedNode(iri)
        wanted = normalize_label(value)
        if param.allowed_fixed is None:  # the first allowed value whose IRI, label or alias it is
            _, by_iri, by_name = self._graph_lookup(param, run)
            found = [p for p in (by_iri.get(iri), by_name.get(wanted)) if p is not None]
        else:
            found = [p for p, candidate in enumerate(allowed) if iri == candidate.value
                     or wanted in {normalize_label(n) for n in (candidate.label, *candidate.aliases)}]
        if found:
            return allowed[min(found)].term
        raise ParameterError("unknown_value", param.name,
                             f"{param.name}={value!r} matches no allowed value (give a label, an alias or an IRI)",
                             [a.as_dict() for a in allowed])

    def _listing(self, query: CannedQuery, param: Param, run: Runner) -> list[dict] | None:
        allowed = self.allowed(query, param, run)
        return None if allowed is None else [a.as_dict() for a in allowed]

    # ---- documentation

    def markdown(self) -> str:
        """The README table of canned questions, generated from the headers."""
        lines = ["| Question | URL | Parameters | Columns |", "|---|---|---|---|"]
        for q in self:
            params = ", ".join(f"`{p.name}` ({p.type}{'' if p.required else ', optional'})" for p in q.params) or "—"
            link = f"`/queries/{q.name}`" + (f" e.g. `?{q.example}`" if q.example else "")
            cols = ", ".join(q.columns)
            lines.append(f"| **{_cell(q.title)}**: {_cell(q.description)} | {link} | {params} | {_cell(cols)} |")
        return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def readme_section(catalog: Catalog) -> str:
    """The whole README block between the markers (markers included)."""
    return (f"{README_START}\n## Canned questions\n\n"
            "Generated from the `queries/*.rq` headers by `python -m graph.catalog --readme` "
            "(a test checks it is up to date). Each question answers at `/queries/<name>` as HTML, "
            "JSON, CSV or SPARQL JSON (`Accept` or `?format=html|json|csv|sparql-json`); add "
            "`evidence=true` for the documents and quotes behind each row. Parameters take an IRI, a "
            "CURIE or a label (case-insensitive, aliases too: `Turkey`, `Türkiye`, `TR`).\n\n"
            f"{catalog.markdown()}{README_END}")


def update_readme(readme: Path, catalog: Catalog) -> bool:
    """Rewrite the marked section of README (append it when missing); True when the file changed."""
    text = readme.read_text(encoding="utf-8") if readme.exists() else ""
    section = readme_section(catalog)
    if README_START in text and README_END in text:
        head, _, rest = text.partition(README_START)
        _, _, tail = rest.partition(README_END)
        new = head + section + tail
    else:
        new = text.rstrip("\n") + ("\n\n" if text else "") + section + "\n"
    if new != text:
        readme.write_text(new, encoding="utf-8")
        return True
    return False


def main(argv: list[str]) -> int:
    try:
        catalog = Catalog.load(QUERIES_DIR)
    except CatalogError as exc:
        print(exc, file=sys.stderr)
        return 1
    if "--markdown" in argv:
        print(catalog.markdown(), end="")
    elif "--readme" in argv:
        changed = update_readme(ROOT / "README.md", catalog)
        print("README.md updated" if changed else "README.md already up to date")
    else:
        print(f"ok: {len(catalog)} canned queries: {', '.join(catalog.queries)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
