"""The lexical screen that refuses SERVICE and updates before any parser or engine sees a query."""

import pytest

from api.errors import ApiError
from api.screening import screen


@pytest.mark.parametrize(
    "query",
    [
        "SELECT * { SERVICE <http://x/> { ?s ?p ?o } }",
        "select * { service silent <http://x/> { ?s ?p ?o } }",
        "SELECT * { ?s ?p 1.SERVICE <http://x/> {} }",
        "SELECT * { \\u0053ERVICE <http://x/> {} }",
        "SELECT * { \\U00000053ERVICE <http://x/> {} }",
        "SELECT * { ?s ?p \"unterminated } SERVICE <http://x/> {} }",
        "SELECT * { ?s ?p ?o } # a comment\nSERVICE",
    ],
)
def test_service_is_refused_wherever_it_can_act(query):
    with pytest.raises(ApiError) as caught:
        screen(query)
    assert (caught.value.status, caught.value.code) == (403, "service_refused")


@pytest.mark.parametrize(
    "query",
    [
        'SELECT * { ?s ?p "SERVICE" }',
        "SELECT * { ?s ?p '''a\nSERVICE''' }",
        "SELECT * { ?s <http://x/SERVICE> ?o }",
        "PREFIX service: <http://x/> SELECT * { ?s service:p ?service }",
        "SELECT * { ?s ?p ?o } # SERVICE <http://x/> {}",
    ],
)
def test_service_as_data_is_not_a_keyword(query):
    assert screen(query).form == "SELECT"


@pytest.mark.parametrize(
    "query",
    ["CLEAR ALL", "INSERT DATA { <a> <b> <c> }", "PREFIX x: <y> DELETE WHERE { ?s ?p ?o }", "LOAD <http://x/>",
     "DROP GRAPH <g>", "WITH <g> DELETE { ?s ?p ?o } WHERE { ?s ?p ?o }", "CREATE GRAPH <g>",
     "ADD <a> TO <b>", "MOVE <a> TO <b>", "COPY <a> TO <b>", "SELECT * {} ; CLEAR ALL"],
)
def test_updates_are_refused(query):
    with pytest.raises(ApiError) as caught:
        screen(query)
    assert (caught.value.status, caught.value.code) == (403, "update_refused")


@pytest.mark.parametrize(
    ("query", "form", "has_from"),
    [
        ("PREFIX ex: <http://x/> BASE <http://y/> select * {}", "SELECT", False),
        ("ASK FROM <g> {}", "ASK", True),
        ("CONSTRUCT WHERE { ?s ?p ?o }", "CONSTRUCT", False),
        ("DESCRIBE <x> FROM NAMED <g>", "DESCRIBE", True),
        ("# SELECT\nASK {}", "ASK", False),
    ],
)
def test_form_and_dataset_clause(query, form, has_from):
    screening = screen(query)
    assert (screening.form, screening.has_dataset_clause) == (form, has_from)


def test_not_a_query_is_a_syntax_error():
    with pytest.raises(ApiError) as caught:
        screen("hello")
    assert caught.value.status == 400


def test_depth_counts_brackets_outside_strings():
    assert screen('SELECT * { FILTER(("((((")) }').depth == 3
    with pytest.raises(ApiError):
        screen("ASK {{{{ }}}}", max_depth=3)


def test_volatile_functions_are_seen_as_words_only():
    from api.screening import screen

    assert screen("SELECT * WHERE { ?s ?p ?o FILTER(rand() < 0.5) }").volatile
    assert screen("SELECT (NOW() AS ?t) {}").volatile
    assert not screen('SELECT * WHERE { ?s <urn:rand> "NOW()" } # UUID()').volatile
