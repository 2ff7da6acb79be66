"""/explain: whether a triple holds and why, as a JSON tree or nested HTML lists with the quotes."""

import json
from collections import ChainMap
from html import escape
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Query, Request, Response
from rdflib.namespace import RDF

from api.errors import ApiError
from api.layout import page
from api.linked_data import (
    HTML,
    JSON,
    evidence_html,
    explain_href,
    form_value,
    respond,
    rule_step_html,
    site,
    term_html,
)
from api.negotiation import negotiate
from graph.explain import KIND_TEXT, Explanation, Unresolved, explain, labels, resolve, term_json

router = APIRouter(tags=["Explanations"])

OFFERS = (JSON, HTML)
NAMES = {"json": JSON, "html": HTML}

Term = Annotated[str | None, Query(description="An IRI, a CURIE (sg:releasedTo, person:evan-gershkovich) or a label")]
Obj = Annotated[str | None, Query(description="An IRI, a CURIE, a label, or a literal (e.g. 2024-08-01)")]
Format = Annotated[str | None, Query(alias="format", description="json or html; overrides Accept")]
Depth = Annotated[int, Query(ge=1, le=30, description="How many derivation levels to expand")]


def _choose(request: Request, fmt: str | None) -> str:
    if fmt:
        chosen = NAMES.get(fmt.strip().lower())
        if chosen is None:
            raise ApiError(406, "not_acceptable", "format must be json or html")
        return chosen
    return negotiate(request.headers.get("accept"), list(OFFERS))


def _form(s: str = "", p: str = "", o: str = "") -> str:
    def field(name: str, label: str, value: str, hint: str) -> str:
        return (f'<p><label for="{name}">{escape(label)}</label><br>'
                f'<input id="{name}" name="{name}" value="{escape(value, quote=True)}" size="50" '
                f'placeholder="{escape(hint, quote=True)}"></p>')

    return ('<form method="get" action="/explain">'
            + field("s", "Subject", s, "Evan Gershkovich or person:evan-gershkovich")
            + field("p", "Property", p, "released to or sg:releasedTo")
            + field("o", "Object", o, "United States or state:US")
            + '<p><button type="submit">Explain</button></p></form>')


def _node_html(node: Explanation, names: dict[str, str], current, root: bool = False) -> str:
    triple = " ".join(term_html(t, names) for t in (node.subject, node.predicate, node.object))
    kind = node.kind
    parts = [f'<span>⟨{triple}⟩</span> <span class="badge">{escape(KIND_TEXT.get(kind, kind))}</span>']
    if kind == "inferred" and not root:
        href = explain_href(node.subject, node.predicate, node.object)
        parts.append(f' <a class="muted" href="{escape(href, quote=True)}">explain this alone</a>')
    if node.cycle:
        parts.append(' <span class="muted">(already explained above: a cycle)</span>')
    if node.truncated:
        parts.append(' <span class="muted">(not expanded: depth limit)</span>')
    for evidence in node.evidence:
        parts.append(evidence_html(current.texts, names, evidence=evidence.iri, document=evidence.document,
                                   file_name=evidence.file_name, quote=evidence.quote,
                                   start=evidence.start, end=evidence.end))
    for derivation in node.derivations:
        concluded = node.object if node.predicate == RDF.type else node.predicate
        step = rule_step_html(current, derivation.rule, derivation.rule_id, concluded, names)
        facts = [p for p in derivation.premises if p.kind != "axiom"]
        axioms = [p for p in derivation.premises if p.kind == "axiom"]
        items = "".join(f"<li>{_node_html(p, names, current)}</li>" for p in facts)
        if axioms:
            listed = "".join(f"<li>{_node_html(p, names, current)}</li>" for p in axioms)
            items += (f"<li><details><summary>and {len(axioms)} ontology axiom(s)</summary>"
                      f"<ul>{listed}</ul></details></li>")
        parts.append(f'{step}<ul>{items}</ul>')
    return "".join(parts)


def _form_values(current, node: Explanation, names: dict[str, str]) -> tuple[str, str, str]:
    """The explained triple pre-filled as labels where they name the same terms again (not full IRIs)."""
    return (form_value(current.source, node.subject, "s", names),
            form_value(current.source, node.predicate, "p", names),
            form_value(current.source, node.object, "o", names, subject=node.subject, predicate=node.predicate))


def _explanation_page(node: Explanation, names: dict[str, str], current) -> str:
    triple = " ".join(term_html(t, names) for t in (node.subject, node.predicate, node.object))
    summary = {
        "asserted": f"Holds: stated by {len(node.evidence)} quote(s) in the documents.",
        "inferred": "Holds: inferred by rule "
        + ", ".join(escape(d.rule_id) for d in node.derivations) + "; its premises are explained below, down to the quotes.",
        "registry": "Holds: it comes from the entity registry (names, types and codes of known entities).",
        "axiom": "Holds: it is an axiom of the ontology.",
        "provenance": "Holds: it is part of the provenance record.",
    }.get(node.kind, "Holds.")
    body = (f"<h1>Why does this hold?</h1><p>⟨{triple}⟩</p><p><strong>{escape(summary)}</strong></p>"
            f'<ul class="explanation"><li>{_node_html(node, names, current, root=True)}</li></ul>'
            f'<h2>Explain another fact</h2>{_form(*_form_values(current, node, names))}')
    return page("Explanation", body)


# Each term an IRI, a CURIE or a label (the object may be a literal): 200 with the explanation; 404 with
# `"holds": false` when the triple is in no graph; 422 with the candidates when a label is unknown or
# names several things. With no parameters, browsers get a form.
@router.api_route("/explain", methods=["GET", "HEAD"], response_class=Response,
                  responses={200: {"description": "Why the triple holds (JSON tree or HTML)",
                                   "content": {JSON: {}, HTML: {}}},
                             404: {"description": "The triple does not hold"},
                             422: {"description": "A term is unknown or ambiguous; candidates listed"}})
def explain_triple(request: Request, s: Term = None, p: Term = None, o: Obj = None, format: Format = None,
                   depth: Depth = 12):
    """Explain whether a triple holds: its evidence, or the rule and premises it was inferred from."""
    media_type = _choose(request, format)
    current = site(request)
    if not (s or p or o):
        if media_type == HTML:
            body = ("<h1>Explain a fact</h1><p>Give a subject, a property and an object (IRIs, CURIEs or "
                    "labels) to see whether the fact holds and why: its quotes, or the rule and premises it "
                    "was inferred from.</p>" + _form())
            return respond(request, page("Explain", body), HTML)
        raise ApiError(422, "invalid_parameter", "give s, p and o (IRIs, CURIEs or labels)")
    missing = [name for name, value in (("s", s), ("p", p), ("o", o)) if not value]
    if missing:
        raise ApiError(422, "invalid_parameter", "missing parameter(s): " + ", ".join(missing))
    source = current.source
    try:
        subject = resolve(source, s, "s")
        predicate = resolve(source, p, "p")
        obj = resolve(source, o, "o", subject=subject, predicate=predicate)
    except Unresolved as exc:
        return _unresolved(request, media_type, exc, s, p, o)
    node = explain(source, subject, predicate, obj, max_depth=depth)
    names = ChainMap(labels(source, node.terms()), current.labels)  # not a copy of every label per request
    if not node.holds:
        triple = {"subject": term_json(subject, names), "predicate": term_json(predicate, names),
                  "object": term_json(obj, names)}
        message = "the triple does not hold in this graph (it is neither stated nor inferred)"
        if media_type == HTML:
            shown = " ".join(term_html(t, names) for t in (subject, predicate, obj))
            body = (f"<h1>Does not hold</h1><p>⟨{shown}⟩</p><p>{escape(message)}.</p>"
                    f"<h2>Try another</h2>{_form(s, p, o)}")
            return respond(request, page("Does not hold", body), HTML, 404)
        body = {"error": "does_not_hold", "message": message, "status": 404, "holds": False, **triple}
        return respond(request, json.dumps(body, ensure_ascii=False), JSON, 404)
    if media_type == HTML:
        return respond(request, _explanation_page(node, names, current), HTML)
    return respond(request, json.dumps(node.as_json(names), ensure_ascii=False, indent=1), JSON)


def _unresolved(request: Request, media_type: str, exc: Unresolved, s, p, o) -> Response:
    code = "ambiguous_term" if exc.reason == "ambiguous" else "unknown_term"
    if media_type == HTML:
        values = {"s": s or "", "p": p or "", "o": o or ""}
        items = []
        for candidate in exc.candidates:
            chosen = {**values, exc.role: candidate.iri}
            href = "/explain?" + "&".join(f"{k}={quote(v, safe='')}" for k, v in chosen.items())
            items.append(f'<li><a href="{escape(href, quote=True)}">{escape(candidate.label)}</a> '
                         f'<span class="muted">{escape(candidate.iri)}</span></li>')
        listing = f"<p>Did you mean:</p><ul>{''.join(items)}</ul>" if items else ""
        body = (f"<h1>Which one?</h1><p>{escape(str(exc))}.</p>{listing}"
                f"<h2>Try again</h2>{_form(values['s'], values['p'], values['o'])}")
        return respond(request, page("Which one?", body), HTML, 422)
    body = {"error": code, "message": str(exc), "status": 422, "parameter": exc.role, "text": exc.text,
            "candidates": [c.as_json() for c in exc.candidates]}
    return respond(request, json.dumps(body, ensure_ascii=False), JSON, 422)
