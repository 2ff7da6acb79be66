"""Serialise query results in the query workers: SPARQL results for SELECT/ASK, RDF for CONSTRUCT/DESCRIBE.

SELECT results may be cut at the row cap, and pyoxigraph can only serialise a whole iterator; so
pyoxigraph writes the solutions as TSV, one line per row, into a sink that stops it once the rows
pass the cap; the TSV (cut at the cap) is read back as `QuerySolutions` and serialised by pyoxigraph
in the format asked: the bytes oxigraph itself would send, with no Python object per row. TSV itself
is written from the parsed rows with every term in its N-Triples form. Rows already in hand
(`serialize_solutions`) take the same round trip, through TSV written in Python; rows holding
RDF-star triple terms there take the pure-Python writers below. Graph results and booleans go
through pyoxigraph directly. A cut result says so in the body wherever the format has room
(a `"truncated": true` member in JSON, a comment in XML, Turtle, TriG, N-Triples and N-Quads).
"""

import json
from xml.sax.saxutils import escape, quoteattr

import pyoxigraph as ox

XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
RDF_LANG_STRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"

SPARQL_JSON = "application/sparql-results+json"
SPARQL_XML = "application/sparql-results+xml"
CSV = "text/csv"
TSV = "text/tab-separated-values"
TURTLE = "text/turtle"
N_TRIPLES = "application/n-triples"
N_QUADS = "application/n-quads"
TRIG = "application/trig"
RDF_XML = "application/rdf+xml"
JSON_LD = "application/ld+json"

RESULT_TYPES = (SPARQL_JSON, SPARQL_XML, CSV, TSV)
GRAPH_TYPES = (TURTLE, N_TRIPLES, N_QUADS, TRIG, RDF_XML, JSON_LD)
GRAPH_FORMATS = {
    TURTLE: ox.RdfFormat.TURTLE,
    N_TRIPLES: ox.RdfFormat.N_TRIPLES,
    N_QUADS: ox.RdfFormat.N_QUADS,
    TRIG: ox.RdfFormat.TRIG,
    RDF_XML: ox.RdfFormat.RDF_XML,
    JSON_LD: ox.RdfFormat.JSON_LD,
}
BOOLEAN_FORMATS = {
    SPARQL_JSON: ox.QueryResultsFormat.JSON,
    SPARQL_XML: ox.QueryResultsFormat.XML,
    CSV: ox.QueryResultsFormat.CSV,
    TSV: ox.QueryResultsFormat.TSV,
}
COMMENTED = {TURTLE, N_TRIPLES, N_QUADS, TRIG}
TRUNCATED_LINK = b"urn:swapgraph:truncated"


def truncation_note(limit: int) -> str:
    return f"truncated: the result was cut at {limit} rows (the server's row limit)"


# --- SELECT -------------------------------------------------------------------------------------


def _json_term(term) -> dict:
    kind = type(term)
    if kind is ox.NamedNode:
        return {"type": "uri", "value": term.value}
    if kind is ox.Literal:
        out = {"type": "literal", "value": term.value}
        if term.language:
            out["xml:lang"] = term.language
            if term.direction is not None:
                out["its:dir"] = str(term.direction).rsplit(".", 1)[-1].lower()
        elif term.datatype.value != XSD_STRING:
            out["datatype"] = term.datatype.value
        return out
    if kind is ox.BlankNode:
        return {"type": "bnode", "value": term.value}
    if kind is ox.Triple:
        return {
            "type": "triple",
            "value": {
                "subject": _json_term(term.subject),
                "predicate": _json_term(term.predicate),
                "object": _json_term(term.object),
            },
        }
    raise TypeError(f"unexpected term {term!r}")


def _xml_term(term) -> str:
    kind = type(term)
    if kind is ox.NamedNode:
        return f"<uri>{escape(term.value)}</uri>"
    if kind is ox.Literal:
        if term.language:
            attr = f" xml:lang={quoteattr(term.language)}"
        elif term.datatype.value != XSD_STRING:
            attr = f" datatype={quoteattr(term.datatype.value)}"
        else:
            attr = ""
        return f"<literal{attr}>{escape(term.value, {chr(10): '&#10;', chr(13): '&#13;'})}</literal>"
    if kind is ox.BlankNode:
        return f"<bnode>{escape(term.value)}</bnode>"
    if kind is ox.Triple:
        return (
            f"<triple><subject>{_xml_term(term.subject)}</subject>"
            f"<predicate>{_xml_term(term.predicate)}</predicate>"
            f"<object>{_xml_term(term.object)}</object></triple>"
        )
    raise TypeError(f"unexpected term {term!r}")


def _csv_value(term) -> str:
    if term is None:
        return ""
    kind = type(term)
    if kind is ox.BlankNode:
        text = "_:" + term.value
    elif kind is ox.Triple:
        text = str(term)
    else:
        text = term.value
    if any(c in text for c in ',"\n\r'):
        text = '"' + text.replace('"', '""') + '"'
    return text


def _tsv_value(term) -> str:
    return "" if term is None else str(term)


def _tsv_term(term) -> str:
    if term is None:
        return ""
    if type(term) is ox.Triple:
        raise _NoTsv
    return str(term)


class _NoTsv(Exception):
    """A row holds a term TSV cannot carry."""


class _RowCapReached(Exception):
    """Raised by `_TsvSink` to stop pyoxigraph's writer once the rows pass the cap."""


class _TsvSink:
    """A file-like object for pyoxigraph's TSV writer (a header line, then one line per row; newlines
    inside terms are escaped) that keeps what it is given and stops the writer past `max_rows` rows."""

    def __init__(self, max_rows: int | None):
        self.lines_allowed = None if max_rows is None else max_rows + 1
        self.lines = 0
        self.parts: list[bytes] = []

    def write(self, data) -> int:
        data = bytes(data)
        self.parts.append(data)
        self.lines += data.count(b"\n")
        if self.lines_allowed is not None and self.lines > self.lines_allowed:
            raise _RowCapReached
        return len(data)

    def flush(self) -> None:
        pass

    def tsv(self) -> tuple[bytes, bool]:
        """The TSV written, cut after the last row allowed; and whether it was cut."""
        tsv = b"".join(self.parts)
        if self.lines_allowed is None or self.lines <= self.lines_allowed:
            return tsv, False
        end = -1
        for _ in range(self.lines_allowed):
            end = tsv.index(b"\n", end + 1)
        return tsv[: end + 1], True


def serialize_query_solutions(solutions, media_type: str, max_rows: int | None) -> tuple[bytes, bool]:
    """A SELECT result (pyoxigraph `QuerySolutions`, consumed) in `media_type`, cut after `max_rows`
    rows (None: no cap); and whether it was cut."""
    if media_type not in BOOLEAN_FORMATS:
        raise ValueError(f"not a SPARQL results media type: {media_type}")
    sink = _TsvSink(max_rows)
    try:
        solutions.serialize(sink, format=ox.QueryResultsFormat.TSV)
    except _RowCapReached:
        pass
    tsv, truncated = sink.tsv()
    parsed = ox.parse_query_results(tsv, format=ox.QueryResultsFormat.TSV)
    truncated_at = max_rows if truncated else None
    if media_type == TSV:  # every term in full N-Triples form (callers build N-Quads from it)
        return _python_solutions([v.value for v in parsed.variables], list(parsed), TSV, None), truncated
    return _marked(parsed.serialize(format=BOOLEAN_FORMATS[media_type]), media_type, truncated_at), truncated


def _native(variables: list[str], rows: list, media_type: str, truncated_at: int | None) -> bytes:
    width = range(len(variables))
    lines = ["\t".join("?" + name for name in variables)]
    lines.extend("\t".join(_tsv_term(row[i]) for i in width) for row in rows)
    tsv = ("\n".join(lines) + "\n").encode("utf-8")
    if media_type == TSV:  # every term in full N-Triples form (callers build N-Quads from it); no room for a mark
        return tsv
    solutions = ox.parse_query_results(tsv, format=ox.QueryResultsFormat.TSV)
    return _marked(solutions.serialize(format=BOOLEAN_FORMATS[media_type]), media_type, truncated_at)


def _marked(body: bytes, media_type: str, truncated_at: int | None) -> bytes:
    """A SPARQL JSON or XML body that says it was cut, when it was."""
    if truncated_at is not None:
        if media_type == SPARQL_JSON:  # before "results": parsers stop reading after the bindings
            marked = body.replace(b'},"results":', b',"link":["' + TRUNCATED_LINK + b'"]},"truncated":true,"results":', 1)
            if marked == body:  # pyoxigraph changed its layout: a cut result must never look whole
                raise RuntimeError("cannot mark a cut SPARQL JSON result as truncated")
            body = marked
        elif media_type == SPARQL_XML:
            head, sep, rest = body.partition(b"?>")
            comment = f"\n<!-- {truncation_note(truncated_at)} -->\n".encode()
            body = head + sep + comment + rest if sep else comment + body
    return body


def serialize_solutions(variables: list[str], rows: list, media_type: str, truncated_at: int | None) -> bytes:
    """Rows are pyoxigraph QuerySolution objects; truncated_at is the row cap when the result was cut."""
    if media_type in BOOLEAN_FORMATS:
        try:
            return _native(variables, rows, media_type, truncated_at)
        except _NoTsv:
            pass
    return _python_solutions(variables, rows, media_type, truncated_at)


def _python_solutions(variables: list[str], rows: list, media_type: str, truncated_at: int | None) -> bytes:
    if media_type == SPARQL_JSON:
        bindings = []
        for row in rows:
            binding = {}
            for i, name in enumerate(variables):
                term = row[i]
                if term is not None:
                    binding[name] = _json_term(term)
            bindings.append(binding)
        doc = {"head": {"vars": variables}}
        if truncated_at is not None:  # before "results": parsers stop reading after the bindings
            doc["head"]["link"] = [TRUNCATED_LINK.decode()]
            doc["truncated"] = True
        doc["results"] = {"bindings": bindings}
        return json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    if media_type == SPARQL_XML:
        out = ['<?xml version="1.0" encoding="UTF-8"?>\n']
        if truncated_at is not None:
            out.append(f"<!-- {truncation_note(truncated_at)} -->\n")
        out.append('<sparql xmlns="http://www.w3.org/2005/sparql-results#"><head>')
        out.extend(f"<variable name={quoteattr(name)}/>" for name in variables)
        if truncated_at is not None:
            out.append(f'<link href="{TRUNCATED_LINK.decode()}"/>')
        out.append("</head><results>")
        for row in rows:
            out.append("<result>")
            for i, name in enumerate(variables):
                term = row[i]
                if term is not None:
                    out.append(f"<binding name={quoteattr(name)}>{_xml_term(term)}</binding>")
            out.append("</result>")
        out.append("</results></sparql>\n")
        return "".join(out).encode("utf-8")
    if media_type == CSV:
        lines = [",".join(variables)]
        lines.extend(",".join(_csv_value(row[i]) for i in range(len(variables))) for row in rows)
        return ("\r\n".join(lines) + "\r\n").encode("utf-8")
    if media_type == TSV:
        lines = ["\t".join("?" + name for name in variables)]
        lines.extend("\t".join(_tsv_value(row[i]) for i in range(len(variables))) for row in rows)
        return ("\n".join(lines) + "\n").encode("utf-8")
    raise ValueError(f"not a SPARQL results media type: {media_type}")


# --- ASK ----------------------------------------------------------------------------------------


def serialize_boolean(result, media_type: str) -> bytes:
    if media_type not in BOOLEAN_FORMATS:
        raise ValueError(f"not a SPARQL results media type: {media_type}")
    return result.serialize(format=BOOLEAN_FORMATS[media_type])


# --- CONSTRUCT / DESCRIBE -----------------------------------------------------------------------


def serialize_triples(triples: list, media_type: str, truncated_at: int | None, prefixes: dict | None) -> bytes:
    fmt = GRAPH_FORMATS.get(media_type)
    if fmt is None:
        raise ValueError(f"not an RDF media type: {media_type}")
    items = [ox.Quad(t.subject, t.predicate, t.object) for t in triples] if fmt.supports_datasets else triples
    use_prefixes = prefixes if media_type in (TURTLE, TRIG, RDF_XML) else None
    body = ox.serialize(items, format=fmt, prefixes=use_prefixes) if use_prefixes else ox.serialize(items, format=fmt)
    if truncated_at is not None:
        if media_type in COMMENTED:
            body = f"# {truncation_note(truncated_at)}\n".encode() + body
        elif media_type == RDF_XML:
            head, sep, rest = body.partition(b"?>")
            comment = f"\n<!-- {truncation_note(truncated_at)} -->".encode()
            body = head + sep + comment + rest if sep else comment + body
    return body
