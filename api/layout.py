"""The page shell every HTML page shares (navigation, styles), and public IRIs to local links."""

from html import escape

from graph.vocab import BASE

NAV = (
    ("/", "Home"),
    ("/exchanges", "Exchanges"),
    ("/queries", "Questions"),
    ("/sparql", "SPARQL"),
    ("/ontology", "Ontology"),
    ("/void", "Dataset"),
    ("/docs", "API"),
)

# Inline, so a page makes no request but its own.
STYLE = """
:root{--ink:#1d2430;--muted:#5b6575;--line:#d9dee7;--accent:#0b5cad;--bg:#fbfcfe;--mark:#fff2a8}
*{box-sizing:border-box}
body{font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--ink);background:var(--bg);margin:0}
header{border-bottom:1px solid var(--line);background:#fff}
header nav{max-width:72rem;margin:0 auto;padding:.6rem 1rem;display:flex;flex-wrap:wrap;gap:1rem;align-items:center}
header nav a{color:var(--ink);text-decoration:none}
header nav a.brand{font-weight:700;margin-right:1rem}
main{max-width:72rem;margin:0 auto;padding:1rem}
a{color:var(--accent)}
h1{font-size:1.6rem;margin:.5rem 0 1rem}
table{border-collapse:collapse;width:100%;margin:.5rem 0 1.5rem;font-size:.95rem}
th,td{border-bottom:1px solid var(--line);padding:.35rem .5rem;text-align:left;vertical-align:top}
th{background:#f1f4f9}
.muted{color:var(--muted)}
.error{color:#a00}
.inferred{font-style:italic}
.badge{display:inline-block;font-size:.75rem;padding:0 .4rem;border-radius:.6rem;background:#e8eef8;color:var(--muted)}
blockquote{margin:.3rem 0;padding:.3rem .8rem;border-left:3px solid var(--line);background:#fff}
mark{background:var(--mark)}
label{display:inline-block;margin:.2rem 1rem .2rem 0}
input,select,textarea,button{font:inherit}
.table-wrap{overflow-x:auto}
footer{max-width:72rem;margin:2rem auto;padding:1rem;color:var(--muted);font-size:.85rem;border-top:1px solid var(--line)}
"""


def local_path(iri: str) -> str | None:
    """`https://w3id.org/swapgraph/X` is served at `/X` on this server; other IRIs are not ours."""
    return "/" + iri[len(BASE):] if iri.startswith(BASE) else None


def service_base(request) -> str:
    """Where this service is reached, without a trailing slash: the public_base_url setting, else the
    scheme and host the request came to (so links work on a laptop, offline, and behind a proxy)."""
    configured = request.app.state.settings.public_base_url
    return (configured or str(request.base_url)).rstrip("/")


def link(iri: str, label: str | None = None) -> str:
    text = escape(label or iri)
    target = local_path(iri) or iri
    return f'<a href="{escape(target, quote=True)}">{text}</a>'


def page(title: str, body: str, *, head: str = "") -> str:
    """A whole HTML document: shared header, the body given (already escaped), footer."""
    nav = "".join(f'<a href="{href}">{escape(text)}</a>' for href, text in NAV[1:])
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)} · Swapgraph</title>
<style>{STYLE}</style>
{head}
</head>
<body>
<header><nav aria-label="Main"><a class="brand" href="/">Swapgraph</a>{nav}</nav></header>
<main>
{body}
</main>
<footer>Swapgraph: a knowledge graph of prisoner exchanges, every fact with its source sentence.</footer>
</body>
</html>
"""
