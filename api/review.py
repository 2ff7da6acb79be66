"""The /review pages: candidates per document, accept / edit / reject; mounted only when reviewing on loopback."""

import ipaddress
from pathlib import Path
from urllib.parse import parse_qs

import pyoxigraph as ox
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.concurrency import run_in_threadpool
from jinja2 import Environment, FileSystemLoader, select_autoescape

from api.errors import ApiError
from graph.build import BuildError, SourcePaths, build_store
from loaders.candidates import document_for
from loaders.errors import LoadError
from loaders.extraction import known_entities
from loaders.review import Review, in_words

router = APIRouter(tags=["review"])
TEMPLATES = Environment(loader=FileSystemLoader(Path(__file__).resolve().parent / "templates"),
                        autoescape=select_autoescape(["html"]))
LOOPBACK_NAMES = {"localhost", "testclient"}


def is_loopback(host: str | None) -> bool:
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host or "").is_loopback
    except ValueError:
        return False


def _sources(request: Request) -> SourcePaths:
    return getattr(request.app.state, "review_sources", None) or SourcePaths()


def _guard(request: Request) -> None:
    """Reviewing writes files: only from this machine, and not from another site's page (no foreign Origin)."""
    if not is_loopback(request.client.host if request.client else None):
        raise ApiError(403, "review_loopback_only", "the review pages answer only on the loopback interface")
    origin = request.headers.get("origin")
    if request.method == "POST" and origin and origin.split("://", 1)[-1] != request.headers.get("host"):
        raise ApiError(403, "review_foreign_origin", f"a review change from {origin} is refused")


def _page(**context) -> HTMLResponse:
    return HTMLResponse(TEMPLATES.get_template("review.html").render(**context))


@router.get("/review", response_class=HTMLResponse)
def review_index(request: Request):
    """Documents with candidate facts to review."""
    _guard(request)
    paths = _sources(request)
    documents = []
    for path in sorted(paths.candidates.glob("*.yaml")):
        document = document_for(path.stem, paths.documents)
        count = len(Review(document, paths.candidates, paths.annotations, paths.registry).items)
        documents.append({"stem": document.stem, "name": document.name, "count": count})
    return _page(title="Candidates to review", documents=documents, items=[])


def _items(review: Review, labels: dict) -> list[dict]:
    items = []
    for item in review.items:
        sentence, start, end = review.sentence(item)
        at = sentence.find(item.fact.quote)
        before, after = (sentence[:at], sentence[at + len(item.fact.quote):]) if at >= 0 else ("", "")
        fact = item.fact
        items.append({"number": item.number, "kind": fact.kind, "rule": fact.rule, "confidence": fact.confidence,
                      "modality": fact.modality, "note": fact.note, "start": start, "end": end, "before": before,
                      "quote": fact.quote, "after": after, "turtle": fact.turtle,
                      "words": in_words(fact.turtle, labels)})
    return items


def _render_document(request: Request, stem: str, error: str | None = None, message: str | None = None):
    paths = _sources(request)
    try:
        document = document_for(stem, paths.documents)
        review = Review(document, paths.candidates, paths.annotations, paths.registry)
    except LoadError as exc:
        raise ApiError(404, "no_candidates", str(exc)) from None
    known, _ = known_entities(paths.registry, paths.annotations, paths.documents)
    labels = {d.curie: d.label for d in known if d.label} | {c: e.label for c, e in review.proposed.items()}
    return _page(title=document.name, stem=document.stem, items=_items(review, labels), error=error,
                 message=message)


@router.get("/review/{stem}", response_class=HTMLResponse)
def review_document(request: Request, stem: str):
    """One document's candidates: each quote marked in its sentence, its Turtle in words."""
    _guard(request)
    return _render_document(request, stem)


@router.post("/review/{stem}/{number}")
async def review_decide(request: Request, stem: str, number: int):
    """Accept (as shown or as edited) or reject one candidate; an accepted fact must validate."""
    _guard(request)
    form = {key: values[-1] for key, values in parse_qs((await request.body()).decode("utf-8")).items()}
    action = form.get("action")
    if action not in ("accept", "reject"):
        raise ApiError(400, "bad_review_action", "action must be accept or reject")
    return await run_in_threadpool(_decide, request, stem, number, action, form)


def _decide(request: Request, stem: str, number: int, action: str, form: dict):
    """The file work of a decision, in a worker thread (it validates with a full in-memory build)."""
    paths = _sources(request)
    try:
        review = Review(document_for(stem, paths.documents), paths.candidates, paths.annotations, paths.registry)
        review.item(number)
        edit = {key: form[key].replace("\r\n", "\n") for key in ("quote", "turtle") if form.get(key)}
        if action == "accept":
            review.decide({number: edit}, {}, {}, lambda: build_store(ox.Store(), paths))
        else:
            review.decide({}, {number: form.get("reason") or "rejected on the review page"}, {}, lambda: None)
    except (LoadError, BuildError, ValueError) as exc:  # bad input or invalid data: shown, nothing written
        return _render_document(request, stem, error=f"candidate #{number} not {action}ed:\n{exc}")
    return RedirectResponse(f"/review/{stem}", status_code=303)
