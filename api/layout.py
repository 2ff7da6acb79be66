"""The page shell: Jinja2 templates (api/templates, autoescaped, one base layout), and IRIs to local links."""

from datetime import date as Date
from html import escape
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from vocab import BASE

TEMPLATES = Path(__file__).parent / "templates"

NAV = (
    ("/", "Home"),
    ("/exchanges", "Exchanges"),
    ("/queries", "Questions"),
    ("/sparql", "SPARQL"),
    ("/ontology", "Ontology"),
    ("/void", "Dataset"),
    ("/docs", "API"),
)


def local_path(iri: str) -> str | None:
    """`https://w3id.org/swapgraph/X` is served at `/X` on this server; other IRIs are not ours."""
    return "/" + iri[len(BASE):] if iri.startswith(BASE) else None


def service_base(request) -> str:
    """Where this service is reached, without a trailing slash: the public_base_url setting, else the
    scheme and host the request came to (so links work on a laptop, offline, and behind a proxy)."""
    configured = request.app.state.settings.public_base_url
    return (configured or str(request.base_url)).rstrip("/")


def link(iri: str, label: str | None = None) -> Markup:
    text = escape(label or iri)
    target = local_path(iri) or iri
    return Markup(f'<a href="{escape(target, quote=True)}">{text}</a>')


MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December")


def human_date(value: str | None) -> str:
    """`2024-08-01` → `1 August 2024`, `2022-04` → `April 2022`, `2010` → `2010`; anything else as given."""
    if not value:
        return ""
    parts = value.split("-")
    try:
        if len(parts) == 3:
            day = Date(int(parts[0]), int(parts[1]), int(parts[2][:2]))
            return f"{day.day} {MONTHS[day.month - 1]} {day.year}"
        if len(parts) == 2:
            return f"{MONTHS[int(parts[1]) - 1]} {int(parts[0])}"
    except (ValueError, IndexError):
        return value
    return value


templates = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(["html"], default_for_string=True),
    undefined=StrictUndefined,  # a name missing from a page's data is an error, not an empty string
    trim_blocks=True,
    lstrip_blocks=True,
)
templates.globals.update(nav=NAV[1:], search_query=None)
templates.filters.update(local=lambda iri: local_path(str(iri)) or str(iri), human_date=human_date)


def render(template: str, **context) -> str:
    """A page from its template; the data passed is escaped unless it is Markup."""
    return templates.get_template(template).render(**context)


def page(title: str, body: str, *, head: str = "") -> str:
    """A whole HTML document from markup built (and escaped) in Python, in the base layout."""
    return render("page.html", title=title, body=Markup(body), head=Markup(head))
