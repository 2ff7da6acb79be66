"""SPARQL query text as the grammar tokenises it, and the rewrites a remote engine needs: graph names
mapped to their stored (versioned) names, bound variables given as a VALUES block (the short form
`CONSTRUCT WHERE { P }` written as `CONSTRUCT { P } WHERE { P }` first, so that the block has a group to
open), and isBLANK / isIRI / isURI asked so that the blank nodes stored as skolem IRIs are blank nodes.

Both rewrites work on tokens, never on raw text: strings, comments and IRIs are whole tokens, so a
graph name inside a string is left alone and a term is only ever inserted as a parsed RDF term.
"""

import re
from dataclasses import dataclass
from urllib.parse import urljoin

_ECHAR = r"\\[tbnrf\\\"']"
TOKEN = re.compile(
    r"""
      (?P<space>\s+)
    | (?P<comment>\#[^\n\r]*)
    | (?P<string>'''(?:(?:'|'')?(?:[^'\\]|"""
    + _ECHAR
    + r"""))*'''
                | \"\"\"(?:(?:"|"")?(?:[^"\\]|"""
    + _ECHAR
    + r"""))*\"\"\"
                | '(?:[^'\\\n\r]|"""
    + _ECHAR
    + r""")*'
                | "(?:[^"\\\n\r]|"""
    + _ECHAR
    + r""")*")
    | (?P<iri><[^<>"{}|^`\\\x00-\x20]*>)
    | (?P<var>[?$][\w\u00B7\u0300-\u036F\u203F-\u2040]+)
    | (?P<lang>@[A-Za-z]+(?:-[A-Za-z0-9]+)*)
    | (?P<pname>(?:[^\W\d](?:[\w.\-\u00B7]*[\w\-\u00B7])?)?:(?:[\w:%\-\u00B7]|\\[_~.\-!$&'()*+,;=/?\#@%]|\.(?=[\w:%\-]))*)
    | (?P<word>[^\W\d]\w*)
    | (?P<number>(?:\d+(?:\.\d+)?|\.\d+)(?:[eE][+-]?\d+)?)
    | (?P<other>.)
    """,
    re.VERBOSE | re.DOTALL,
)
QUERY_FORMS = frozenset({"SELECT", "ASK", "CONSTRUCT", "DESCRIBE"})
XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"


@dataclass
class _Token:
    kind: str
    text: str


@dataclass(frozen=True)
class QueryText:
    """A query split into tokens, with what the rewrites need to know about it."""

    tokens: tuple
    form: str  # SELECT, ASK, CONSTRUCT, DESCRIBE (or "" when none was seen)
    has_dataset_clause: bool
    has_base: bool

    @classmethod
    def parse(cls, query: str) -> "QueryText":
        tokens = tuple(_Token(m.lastgroup, m.group()) for m in TOKEN.finditer(query))
        words = [t.text.upper() for t in tokens if t.kind == "word"]
        form = next((w for w in words if w in QUERY_FORMS), "")
        return cls(tokens, form, "FROM" in words, "BASE" in words)

    def rewritten(self, graph_names: dict[str, str], bindings: dict[str, str] | None = None,
                  base_iri: str | None = None, without_dataset_clause: bool = False,
                  plain_strings: bool = False, skolem: str | None = None) -> str:
        """The query with every IRI found in `graph_names` replaced by its value (full, prefixed or
        relative IRIs alike), `bindings` (variable -> N-Triples term) as a VALUES block opening the
        query's outermost WHERE group, and `BASE <base_iri>` first when the query has no BASE.
        `without_dataset_clause` drops FROM and FROM NAMED: the protocol's dataset replaces them (an
        engine may otherwise merge the two, as Virtuoso does). `plain_strings` writes "x"^^xsd:string
        as "x", the same literal in RDF 1.1, for engines that tell them apart. `skolem`: the prefix of
        the IRIs that stand for blank nodes, which isBLANK is true of and isIRI / isURI false of."""
        tokens = self.tokens
        if bindings and self.form == "CONSTRUCT":
            tokens = _long_construct(tokens)
        if skolem:
            tokens = _skolem_aware(tokens, skolem)
        prefixes: dict[str, str] = {}
        base = base_iri or ""
        out: list[str] = []
        pending: str | None = None  # the PREFIX or BASE keyword whose IRI comes next
        values_at = _where_group(tokens, self.form) if bindings else None
        dropped = _dataset_clause(tokens) if without_dataset_clause else set()
        for index, token in enumerate(tokens):
            if index in dropped:
                continue
            text = token.text
            if token.kind == "word" and text.upper() in ("PREFIX", "BASE"):
                pending = text.upper()
            elif token.kind == "pname" and pending == "PREFIX":
                prefix_name = text
            elif token.kind == "iri" and pending:
                iri = urljoin(base, text[1:-1]) if base else text[1:-1]
                if pending == "BASE":
                    base = iri
                else:
                    prefixes[prefix_name] = iri
                pending = None
                out.append(text)
                continue
            elif token.kind in ("iri", "pname"):
                iri = _resolved(token, base, prefixes)
                if plain_strings and iri == XSD_STRING and out[-2:] == ["^", "^"]:
                    del out[-2:]
                    continue
                if iri in graph_names:
                    text = f"<{graph_names[iri]}>"
            out.append(text)
            if index == values_at:
                out.append(" " + values_block(bindings) + " ")
        head = f"BASE <{base_iri}>\n" if base_iri and not self.has_base else ""
        return head + "".join(out)


def _significant(tokens) -> list[int]:
    return [i for i, t in enumerate(tokens) if t.kind not in ("space", "comment")]


def _closing(tokens, opening: int, pair: str) -> int:
    """The index of the token closing the bracket at `opening` ("{}" or "()")."""
    depth = 0
    for index in range(opening, len(tokens)):
        if tokens[index].kind == "other" and tokens[index].text in pair:
            depth += 1 if tokens[index].text == pair[0] else -1
            if depth == 0:
                return index
    raise ValueError(f"the query has an unclosed {pair[0]}")


def _long_construct(tokens: tuple) -> tuple:
    """`CONSTRUCT [FROM ...] WHERE { P }` as `CONSTRUCT { P } [FROM ...] WHERE { P }` (the same query:
    the short form's template is its pattern), other queries unchanged."""
    significant = _significant(tokens)
    words = [(i, tokens[i].text.upper()) for i in significant if tokens[i].kind == "word"]
    form = next((i for i, word in words if word == "CONSTRUCT"), None)
    after = next((i for i in significant if i > form), None) if form is not None else None
    if after is None or tokens[after].text == "{":
        return tokens
    where = next(i for i, word in words if i > form and word == "WHERE")
    opening = next(i for i in significant if i > where)
    template = tokens[opening:_closing(tokens, opening, "{}") + 1]
    space = _Token("space", " ")
    return tokens[:form + 1] + (space, *template, space) + tokens[form + 1:]


BLANK_TESTS = {"ISBLANK": "", "ISIRI": "!", "ISURI": "!"}  # each test's negation of STRSTARTS


def _skolem_aware(tokens: tuple, skolem: str) -> tuple:
    """isBLANK(x) as (isIRI(x) && STRSTARTS(STR(x), skolem)); isIRI(x) and isURI(x) as
    (isIRI(x) && !STRSTARTS(STR(x), skolem)): blank nodes are stored as IRIs under `skolem`."""
    out: list[_Token] = []
    index = 0
    while index < len(tokens):
        token = tokens[index]
        word = token.text.upper() if token.kind == "word" else ""
        following = next((i for i in range(index + 1, len(tokens)) if tokens[i].kind not in ("space", "comment")), None)
        if word in BLANK_TESTS and following is not None and tokens[following].text == "(":
            end = _closing(tokens, following, "()")
            argument = tokens[following + 1:end]
            negation = BLANK_TESTS[word]
            out += [_Token("other", "("), _Token("word", "isIRI"), _Token("other", "("), *argument,
                    _Token("other", ")"), _Token("space", " "), _Token("other", "&"), _Token("other", "&"),
                    _Token("space", " ")]
            out += [_Token("other", negation)] if negation else []
            out += [_Token("word", "STRSTARTS"), _Token("other", "("), _Token("word", "STR"), _Token("other", "("),
                    *argument, _Token("other", ")"), _Token("other", ","), _Token("space", " "),
                    _Token("string", '"' + skolem.replace("\\", "\\\\").replace('"', '\\"') + '"'),
                    _Token("other", ")"), _Token("other", ")")]
            index = end + 1
            continue
        out.append(token)
        index += 1
    return tuple(out)


def _resolved(token: _Token, base: str, prefixes: dict[str, str]) -> str | None:
    """The full IRI an IRI or prefixed-name token stands for (None for an undeclared prefix)."""
    if token.kind == "iri":
        return urljoin(base, token.text[1:-1]) if base else token.text[1:-1]
    prefix, _, local = token.text.partition(":")
    namespace = prefixes.get(prefix + ":")
    return None if namespace is None else namespace + _unescape_local(local)


def values_block(bindings: dict[str, str]) -> str:
    names = " ".join("?" + name.lstrip("?$") for name in bindings)
    return f"VALUES ({names}) {{ ({' '.join(bindings.values())}) }}"


def _unescape_local(local: str) -> str:
    return re.sub(r"\\(.)", r"\1", local)


def _dataset_clause(tokens: tuple) -> set[int]:
    """Indexes of the tokens of every FROM and FROM NAMED clause (each keyword and its IRI)."""
    found: set[int] = set()
    significant = _significant(tokens)
    for position, index in enumerate(significant):
        if tokens[index].kind == "word" and tokens[index].text.upper() == "FROM":
            clause = significant[position:position + 3]
            if len(clause) > 1 and tokens[clause[1]].text.upper() != "NAMED":
                clause = clause[:2]
            found.update(clause)
    return found


def _where_group(tokens: tuple, form: str) -> int | None:
    """The index of the `{` opening the outermost WHERE group: after the word WHERE at depth 0, or for
    SELECT, ASK and DESCRIBE without WHERE, the first `{` at depth 0 (CONSTRUCT's first is its template)."""
    depth = 0
    seen_where = False
    after_form = False
    for index, token in enumerate(tokens):
        if token.kind == "word":
            word = token.text.upper()
            if word in QUERY_FORMS:
                after_form = True
            elif word == "WHERE" and depth == 0:
                seen_where = True
        elif token.kind == "other" and token.text == "{":
            if depth == 0 and after_form and (seen_where or form != "CONSTRUCT"):
                return index
            depth += 1
        elif token.kind == "other" and token.text == "}":
            depth -= 1
    raise ValueError("the query has no WHERE group to bind its variables in")
