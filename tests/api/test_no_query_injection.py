"""No user text in query text (issue 9, bug 7): the routes in api/*.py never build SPARQL from a request
value with an f-string, `%`, `.format` or `+`; parameters are parsed into terms and bound on the parsed
query (the executor's substitutions).

The check reads the source: a value is from the request when it is a route's parameter (other than the
Request), or read from the request (`request.query_params`, `.headers`, `.body()`, ...), or computed from
one, also through calls to functions of api/ (their parameters inherit it). Query text is a string
holding a SPARQL keyword. The planted samples below show that the check catches each way of pasting.

REVIEWED lists the few places where a request value reaches query text only after it was checked
against the store (a key looked up among the known exchanges, graphs or kinds), or where the text is a
query shown in the editor for the user to run; each is named by file, function and the pasted
expression, so that any other paste, even in the same function, fails the test.
"""

import ast
import re
from pathlib import Path

import pytest

API = Path(__file__).resolve().parents[2] / "api"
SPARQL_WORDS = re.compile(r"\b(SELECT|ASK|CONSTRUCT|DESCRIBE|WHERE|VALUES|FILTER|GRAPH|BIND|OPTIONAL|PREFIX)\b")
ROUTE_METHODS = {"get", "post", "put", "patch", "delete", "head", "api_route", "api_route"}
REQUEST_READS = {"query_params", "path_params", "headers", "cookies", "url", "body", "form", "json", "query_string",
                 "stream"}


def _functions(trees: dict[str, ast.Module]) -> dict[str, list[ast.FunctionDef]]:
    found: dict[str, list] = {}
    for tree in trees.values():
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                found.setdefault(node.name, []).append(node)
    return found


def _is_route(function) -> bool:
    return any(isinstance(d, ast.Call) and isinstance(d.func, ast.Attribute) and d.func.attr in ROUTE_METHODS
               for d in function.decorator_list)


def _params(function) -> list[ast.arg]:
    args = function.args
    return [*args.posonlyargs, *args.args, *args.kwonlyargs]


def _is_request(arg: ast.arg) -> bool:
    return arg.arg == "request" or (arg.annotation is not None and "Request" in ast.unparse(arg.annotation))


def _mentions(node: ast.AST, tainted: set[str]) -> bool:
    """Whether an expression uses a tainted name or reads the request."""
    for part in ast.walk(node):
        if isinstance(part, ast.Name) and part.id in tainted:
            return True
        if isinstance(part, ast.Attribute) and part.attr in REQUEST_READS and \
                isinstance(part.value, ast.Name) and part.value.id == "request":
            return True
    return False


def _targets(node: ast.AST) -> list[str]:
    return [n.id for n in ast.walk(node) if isinstance(n, ast.Name)]


def _assignments(function) -> list[tuple[list[str], ast.AST]]:
    """(names bound, the expression they come from) for every binding in a function."""
    pairs = []
    for node in ast.walk(function):
        if isinstance(node, ast.Assign):
            pairs.append(([n for t in node.targets for n in _targets(t)], node.value))
        elif isinstance(node, (ast.AnnAssign, ast.AugAssign, ast.NamedExpr)) and node.value is not None:
            pairs.append((_targets(node.target), node.value))
        elif isinstance(node, (ast.For, ast.AsyncFor, ast.comprehension)):
            pairs.append((_targets(node.target), node.iter))
        elif isinstance(node, (ast.With, ast.AsyncWith)):
            pairs += [(_targets(item.optional_vars), item.context_expr) for item in node.items if item.optional_vars]
    return pairs


def _taint(trees: dict[str, ast.Module]) -> dict[ast.AST, set[str]]:
    """Per function, the names that hold request values (to a fixed point, across calls within api/)."""
    functions = _functions(trees)
    tainted = {f: {a.arg for a in _params(f) if not _is_request(a)} if _is_route(f) else set()
               for group in functions.values() for f in group}
    changed = True
    while changed:
        changed = False
        for function, names in tainted.items():
            for bound, value in _assignments(function):
                if _mentions(value, names) and not set(bound) <= names:
                    names.update(bound)
                    changed = True
            for call in (n for n in ast.walk(function) if isinstance(n, ast.Call)):
                callee = call.func.id if isinstance(call.func, ast.Name) else \
                    call.func.attr if isinstance(call.func, ast.Attribute) else None
                for target in functions.get(callee, []):
                    params = [a.arg for a in _params(target) if a.arg not in ("self", "cls")]
                    passed = list(zip(params, call.args)) + [(k.arg, k.value) for k in call.keywords if k.arg]
                    for param, value in passed:
                        if _mentions(value, names) and param not in tainted[target]:
                            tainted[target].add(param)
                            changed = True
    return tainted


def _query_text(node: ast.AST, constants: dict[str, str]) -> bool:
    """Whether an expression's literal parts (or the module constants it names) hold SPARQL."""
    for part in ast.walk(node):
        if isinstance(part, ast.Constant) and isinstance(part.value, str) and SPARQL_WORDS.search(part.value):
            return True
        if isinstance(part, ast.Name) and SPARQL_WORDS.search(constants.get(part.id, "")):
            return True
    return False


def _module_constants(tree: ast.Module) -> dict[str, str]:
    constants = {}
    for node in tree.body:
        if isinstance(node, ast.Assign):
            text = " ".join(c.value for c in ast.walk(node.value) if isinstance(c, ast.Constant)
                            and isinstance(c.value, str))
            constants.update({t.id: text for t in node.targets if isinstance(t, ast.Name)})
    return constants


REVIEWED = {
    ("api/linked_data.py", "named_graph", "iri"):
        "the IRI of a named graph of the store (404 before, otherwise); the text is the editor link's query",
    ("api/linked_data.py", "graph_triples", "nt(URIRef(graph))"): "called with a known named graph only",
    ("api/linked_data.py", "graph_classes", "nt(URIRef(graph))"): "called with a known named graph only",
    ("api/linked_data.py", "index", "prefix"): "kind is one of the kinds read from the store's IRIs (404 before)",
    ("api/queries.py", "editor_query", "query.name"): "the canned question looked up in the catalogue",
    ("api/queries.py", "editor_query", "query.sparql.rstrip()"): "the canned question's own text (queries/*.rq)",
    ("api/queries.py", "editor_query", "names"): "parameter names of the catalogue's .rq header, not the request",
    ("api/queries.py", "editor_query", "terms"):
        "the editor's copy of the query: terms parsed and checked against the allowed values, written back",
    ("api/site.py", "load_count_claims", "values"): "IRIs of exchanges read from the store (the key looked up)",
}


def _pasted(node: ast.AST, names: set[str], constants: dict[str, str]) -> str | None:
    """How `node` pastes a request value into query text, if it does."""
    if isinstance(node, ast.JoinedStr):
        pasted = [v for v in node.values if isinstance(v, ast.FormattedValue) and _mentions(v.value, names)]
        if pasted and _query_text(node, constants):
            return "an f-string of " + ", ".join(ast.unparse(v.value) for v in pasted)
    elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod):
        if _query_text(node.left, constants) and _mentions(node.right, names):
            return "%"
    elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        if _query_text(node, constants) and _mentions(node, names):
            return "+"
    elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "format":
        if _query_text(node.func.value, constants) and any(_mentions(a, names) for a in [*node.args, *node.keywords]):
            return ".format"
    return None


def findings(sources: dict[str, str], reviewed: dict | None = None) -> list[str]:
    """`file:line: ...` for every place where a request value is pasted into SPARQL text (but the reviewed)."""
    reviewed = reviewed or {}
    trees = {name: ast.parse(text, name) for name, text in sources.items()}
    tainted = _taint(trees)
    problems = []
    for name, tree in trees.items():
        constants = _module_constants(tree)
        for function in (n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))):
            names = tainted[function]
            for node in ast.walk(function):
                how = _pasted(node, names, constants)
                if how and how.startswith("an f-string of "):
                    pasted = how.removeprefix("an f-string of ").split(", ")
                    if all((name, function.name, expression) in reviewed for expression in pasted):
                        continue
                if how:
                    problems.append(f"{name}:{node.lineno}: {function.name} pastes a request value into query "
                                    f"text with {how}: {ast.unparse(node)[:100]}")
    return sorted(set(problems))


def test_no_route_pastes_a_request_value_into_query_text():
    sources = {str(path.relative_to(API.parent)): path.read_text(encoding="utf-8") for path in sorted(API.glob("*.py"))}
    assert len(sources) > 10  # the routes were read
    assert findings(sources, REVIEWED) == []


ROUTE = '''
from fastapi import APIRouter, Request
router = APIRouter()
TEMPLATE = "SELECT ?p WHERE {{ %s ?p ?o }}"

@router.get("/planted")
def planted(o: str, request: Request):
    term = o.strip()
    return run(QUERY)

def run(query, executor=None):
    return executor.run(query)
'''

PLANTED = {
    "f-string": 'query = f"SELECT ?s WHERE {{ ?s ?p {term} }}"',
    "%": 'query = "ASK { ?s ?p %s }" % term',
    "% with a template constant": "query = TEMPLATE % term",
    ".format": 'query = "SELECT ?s WHERE {{ ?s ?p {} }}".format(term)',
    "+": 'query = "SELECT ?s WHERE { ?s ?p " + term + " }"',
    "a header": 'query = "SELECT ?s WHERE { ?s ?p " + request.headers["x-term"] + " }"',
    "through a helper": "query = helper(term)\ndef helper(value):\n    return f'DESCRIBE <{value}>'",
}


def _plant(line: str) -> str:
    head, _, tail = ROUTE.partition("    return run(QUERY)\n")
    body, _, helper = line.partition("\ndef ")
    planted = head + "".join(f"    {piece}\n" for piece in body.splitlines()) + "    return run(query)\n" + tail
    return planted + ("\ndef " + helper + "\n" if helper else "")


@pytest.mark.parametrize("way", PLANTED)
def test_the_check_catches_a_planted_paste(way):
    found = findings({"planted.py": _plant(PLANTED[way])})
    assert found and all("planted pastes" in f or "helper pastes" in f for f in found), found


def test_the_check_passes_a_bound_parameter_and_trusted_text():
    bound = ('query = "SELECT ?s WHERE { ?s ?p ?o }"\n'
             'run_bound = executor.run(query, substitutions={"o": parse_term(term)})\n'
             'limited = f"SELECT ?s WHERE {{ ?s ?p ?o }} LIMIT {LIMIT}"\n'
             'label = f"the term {term} is unknown"')
    assert findings({"planted.py": _plant(bound)}) == []
