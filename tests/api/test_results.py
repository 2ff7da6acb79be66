"""Result serialisation in the workers: pyoxigraph's own bytes via TSV, the Python writers as fallback."""

import json

import pyoxigraph as ox
import pytest

from api import results

QUERY = (
    'SELECT ?x ?y ?z ?w { VALUES (?x ?y ?w) { (<http://a> "a\\tb\\nc\\"d,e"@en 1) '
    '(<http://b> "" "2020-01-01"^^<http://www.w3.org/2001/XMLSchema#date>) } '
    'OPTIONAL { FILTER(false) BIND(1 AS ?z) } }'
)


def rows_of(query: str):
    answer = ox.Store().query(query)
    return [v.value for v in answer.variables], list(answer)


@pytest.mark.parametrize("media_type", [results.SPARQL_JSON, results.SPARQL_XML, results.CSV])
def test_the_bytes_are_oxigraphs_own(media_type):
    variables, rows = rows_of(QUERY)
    native = ox.Store().query(QUERY).serialize(format=results.BOOLEAN_FORMATS[media_type])
    assert results.serialize_solutions(variables, rows, media_type, None) == native


@pytest.mark.parametrize("media_type", [results.SPARQL_JSON, results.SPARQL_XML, results.TSV])
def test_the_python_writers_say_the_same(media_type):
    variables, rows = rows_of(QUERY)
    fmt = results.BOOLEAN_FORMATS[media_type]
    python = results._python_solutions(variables, rows, media_type, None)
    native = results.serialize_solutions(variables, rows, media_type, None)
    assert list(ox.parse_query_results(python, format=fmt)) == list(ox.parse_query_results(native, format=fmt))


def test_triple_terms_take_the_python_writer():
    variables, rows = rows_of("SELECT ?t { BIND(<<( <http://a> <http://b> <http://c> )>> AS ?t) }")
    body = json.loads(results.serialize_solutions(variables, rows, results.SPARQL_JSON, None))
    assert body["results"]["bindings"][0]["t"]["type"] == "triple"


@pytest.mark.parametrize("media_type", [results.SPARQL_JSON, results.SPARQL_XML])
def test_a_cut_result_says_so_in_the_body(media_type):
    variables, rows = rows_of(QUERY)
    body = results.serialize_solutions(variables, rows[:1], media_type, 1)
    assert b"truncated" in body
    parsed = list(ox.parse_query_results(body, format=results.BOOLEAN_FORMATS[media_type]))
    assert len(parsed) == 1


def test_tsv_terms_are_full_ntriples_terms():
    """Callers turn TSV rows into N-Quads by joining the cells: no Turtle abbreviations like a bare 1."""
    variables, rows = rows_of(QUERY)
    lines = results.serialize_solutions(variables, rows, results.TSV, None).decode().splitlines()
    assert lines[1].split("\t")[3] == '"1"^^<http://www.w3.org/2001/XMLSchema#integer>'
