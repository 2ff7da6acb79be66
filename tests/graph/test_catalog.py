"""The canned-question catalogue: headers, checks, binding, and every query on the synthetic fixture."""

from pathlib import Path

import pyoxigraph as ox
import pytest

from graph.build import build_store
from graph.catalog import QUERIES_DIR, ROOT, Catalog, CatalogError, ParameterError, readme_section

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
ID = "https://w3id.org/swapgraph/id/"


@pytest.fixture(scope="module")
def catalog():
    return Catalog.load(QUERIES_DIR)


@pytest.fixture(scope="module")
def store():
    s = ox.Store()
    s.load(path=str(FIXTURES / "canned.trig"), format=ox.RdfFormat.TRIG)
    return s


def runner(store):
    def run(query):
        result = store.query(query, use_default_graph_as_union=True)
        return [{v.value: sol[v] for v in result.variables if sol[v] is not None} for sol in result]
    run.dataset_key = ("store", id(store))
    return run


def ask(catalog, store, name, **params):
    query = catalog.get(name)
    bound = catalog.bind(query, params, runner(store))
    result = store.query(query.sparql, use_default_graph_as_union=True,
                         substitutions={ox.Variable(k): v for k, v in bound.items()})
    return [{v.value: (sol[v].value if sol[v] is not None else None) for v in result.variables} for sol in result]


def test_every_file_loads_with_title_description_and_columns(catalog):
    assert len(catalog) >= 15
    for query in catalog:
        assert query.title and query.description and query.columns


REQUIRED_COLUMNS = {
    "who-mediated-which-swaps": ["mediator", "mediatorLabel", "exchange", "exchangeLabel", "date", "venueLabel"],
    "releases": ["person", "personLabel", "releasedBy", "releasedByLabel", "releasedTo", "releasedToLabel",
                 "exchange", "exchangeLabel", "date"],
    "exchanges": ["exchange", "exchangeLabel", "date", "venueLabel", "partyLabels", "mediatorLabels", "releasedCount"],
    "exchanged-for": ["person", "personLabel", "counterpart", "counterpartLabel", "exchange", "exchangeLabel"],
    "exchange-legs": ["leg", "date", "side", "count", "source"],
    "excluded": ["person", "exchange", "quote"],
}


@pytest.mark.parametrize("name", sorted(REQUIRED_COLUMNS))
def test_required_names_and_leading_columns(catalog, name):
    columns = list(catalog.get(name).columns)
    assert columns[: len(REQUIRED_COLUMNS[name])] == REQUIRED_COLUMNS[name]


def test_required_parameters(catalog):
    assert {p.name for p in catalog.get("releases").params} == {"person", "exchange", "releasedBy", "releasedTo", "status"}
    assert {p.name for p in catalog.get("exchanges").params} == {"state", "venue", "year"}
    assert [p.name for p in catalog.get("detainee").params] == ["person"]
    profile = set(catalog.get("detainee").columns)
    assert {"citizenship", "occupation", "sentence", "charge", "heldBy", "release", "exchange"} <= profile


def test_bad_files_fail_naming_file_and_line():
    with pytest.raises(CatalogError) as info:
        Catalog.load(FIXTURES / "queries-bad")
    text = str(info.value)
    assert "broken.rq:6: SPARQL does not parse" in text
    assert "unused.rq:3: parameter state is not a variable in the SELECT projection" in text
    assert "unused.rq:4: unknown header key 'colour'" in text


def test_header_grammar(tmp_path):
    (tmp_path / "fine.rq").write_text(
        "# title: T\n# description: first line\n#   continued\n# param: year integer optional\n"
        "# default: year 2024\n# allowed: year 2023 | 2024\n# example: year=2023\n"
        "SELECT ?year WHERE { BIND(1 AS ?x) }\n")
    query = Catalog.load(tmp_path).get("fine")
    assert query.description == "first line continued"
    assert query.params[0].default == "2024" and query.params[0].allowed_fixed == ("2023", "2024")
    (tmp_path / "fine.rq").write_text("# title: T\n# description: d\n# default: year 3\nSELECT ?x WHERE {}\n")
    with pytest.raises(CatalogError, match=r"fine.rq:3: default: parameter 'year' is not declared"):
        Catalog.load(tmp_path)


def test_chart_header_names_columns_of_the_query(tmp_path):
    (tmp_path / "counts.rq").write_text("# title: T\n# description: d\n# chart: n label | N by label | n\n"
                                        "SELECT ?label ?n WHERE { BIND(1 AS ?n) BIND('a' AS ?label) }\n")
    assert Catalog.load(tmp_path).get("counts").chart == "n label | N by label | n"
    (tmp_path / "counts.rq").write_text("# title: T\n# description: d\n# chart: total label | N | n\n"
                                        "SELECT ?label ?n WHERE { BIND(1 AS ?n) BIND('a' AS ?label) }\n")
    with pytest.raises(CatalogError, match=r"counts.rq:3: chart: 'total' is not a column of the query"):
        Catalog.load(tmp_path)


@pytest.mark.parametrize("given", ["Turkey", "türkiye", "TURKIYE", "TR", "state:TR", ID + "state/TR"])
def test_labels_aliases_and_iris_resolve(catalog, store, given):
    query = catalog.get("exchanges")
    bound = catalog.bind(query, {"state": given}, runner(store))
    assert bound["state"] == ox.NamedNode(ID + "state/TR")


def test_unknown_value_lists_allowed(catalog, store):
    with pytest.raises(ParameterError) as info:
        catalog.bind(catalog.get("exchanges"), {"state": "Atlantis"}, runner(store))
    assert info.value.code == "unknown_value"
    assert {"value": ID + "state/TR", "label": "Turkey"} in info.value.allowed


def test_missing_required_and_unknown_parameter(catalog, store):
    with pytest.raises(ParameterError) as info:
        catalog.bind(catalog.get("detainee"), {}, runner(store))
    assert info.value.code == "missing_parameter"
    with pytest.raises(ParameterError) as info:
        catalog.bind(catalog.get("detainee"), {"colour": "x"}, runner(store))
    assert info.value.code == "unknown_parameter"


def test_bad_integer(catalog, store):
    with pytest.raises(ParameterError) as info:
        catalog.bind(catalog.get("exchanges"), {"year": "twenty"}, runner(store))
    assert info.value.code == "invalid_value"


# ---- each canned question on the fixture


def pick(rows, *cols):
    return {tuple(r[c] for c in cols) for r in rows}


def test_who_mediated(catalog, store):
    rows = ask(catalog, store, "who-mediated-which-swaps")
    assert pick(rows, "mediatorLabel", "exchangeLabel", "date", "venueLabel") == {
        ("Turkey", "2024 test exchange", "2024-08-01", "Test Airport")}
    assert ask(catalog, store, "who-mediated-which-swaps", mediator="Türkiye") == rows


def test_releases_all_and_filtered(catalog, store):
    rows = ask(catalog, store, "releases")
    assert pick(rows, "personLabel", "releasedByLabel", "releasedToLabel", "exchangeLabel") == {
        ("Alice Example", "Russia", "United States", "2024 test exchange"),
        ("Boris Sample", "United States", None, "2024 test exchange"),
        ("100 Ukrainians", "Russia", "Ukraine", "2025 exchange, day one"),
        ("100 Ukrainians", "Russia", "Ukraine", "2025 two-day exchange"),
    }
    assert pick(ask(catalog, store, "releases", releasedTo="U.S."), "personLabel") == {("Alice Example",)}
    assert pick(ask(catalog, store, "releases", releasedBy="Russia", exchange="2025 two-day exchange"),
                "personLabel", "exchange") == {("100 Ukrainians", ID + "exchange/2025-whole")}
    assert pick(ask(catalog, store, "releases", person="Example"), "releasedBy") == {(ID + "state/RU",)}


def test_exchanges_filters(catalog, store):
    rows = {r["exchangeLabel"]: r for r in ask(catalog, store, "exchanges")}
    assert set(rows) == {"2024 test exchange", "2025 two-day exchange", "2025 exchange, day one", "2025 exchange, day two"}
    assert rows["2025 two-day exchange"]["date"] == "2025-05-23"  # its first leg's date
    assert rows["2024 test exchange"]["mediatorLabels"] == "Turkey"
    assert rows["2024 test exchange"]["releasedCount"] == "2"
    assert pick(ask(catalog, store, "exchanges", state="Ukraine"), "exchangeLabel") == {
        ("2025 two-day exchange",), ("2025 exchange, day one",)}
    assert pick(ask(catalog, store, "exchanges", year="2024"), "exchangeLabel") == {("2024 test exchange",)}
    assert pick(ask(catalog, store, "exchanges", venue="Test Airport"), "exchangeLabel") == {("2024 test exchange",)}


def test_exchanged_for(catalog, store):
    rows = ask(catalog, store, "exchanged-for", person="Alice Example")
    assert pick(rows, "personLabel", "counterpartLabel", "exchangeLabel") == {
        ("Alice Example", "Boris Sample", "2024 test exchange")}
    assert len(ask(catalog, store, "exchanged-for")) == 2  # symmetric


def test_detainee_profile(catalog, store):
    rows = ask(catalog, store, "detainee", person="alice example")
    assert len(rows) == 1
    row = rows[0]
    assert (row["citizenship"], row["occupation"], row["sentence"], row["charge"], row["heldBy"]) == (
        "United States", "reporter", "ten-year sentence", "espionage", "Russia")
    assert row["exchange"] == ID + "exchange/2024-test" and row["releasedByLabel"] == "Russia"


def test_exchange_legs(catalog, store):
    rows = ask(catalog, store, "exchange-legs", exchange="2025 two-day exchange")
    assert pick(rows, "leg", "side", "count", "source") == {
        (ID + "exchange/2025-day1", ID + "state/UA", "100", ID + "document/901"),
        (ID + "exchange/2025-day1", ID + "state/UA", "120", ID + "document/902"),
        (ID + "exchange/2025-day2", None, None, None),
    }


def test_excluded(catalog, store):
    assert pick(ask(catalog, store, "excluded"), "personLabel", "exchangeLabel", "quote") == {
        ("Carl Test", "2024 test exchange", "Carl Test was not included in the swap.")}


def test_conflicts(catalog, store):
    rows = ask(catalog, store, "conflicts")
    assert pick(rows, "claim", "claimDocument", "otherClaim", "otherDocument", "otherQuote") == {
        (ID + "claim/901-day1-100", ID + "document/901", ID + "claim/902-day1-120", ID + "document/902",
         "Some 120 Ukrainians returned on day one.")}


@pytest.mark.parametrize("name", ["count-claims", "documents", "held-by", "detainees-by-citizenship",
                                  "states-by-releases", "venues"])
def test_other_questions_answer_on_the_fixture(catalog, store, name):
    assert ask(catalog, store, name)


def test_readme_table_matches_headers(catalog):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert readme_section(catalog) in readme, "run `python -m graph.catalog --readme`"


# ---- every canned question on the real graph (built in memory from corpus/)


@pytest.fixture(scope="module")
def real_store():
    store = ox.Store()
    build_store(store)
    return store


@pytest.mark.parametrize("name", sorted(p.stem for p in QUERIES_DIR.glob("*.rq")))
def test_each_question_answers_on_the_real_graph(catalog, real_store, name):
    from urllib.parse import parse_qsl

    query = catalog.get(name)
    params = dict(parse_qsl(query.example or ""))
    rows = ask(catalog, real_store, name, **params)
    assert rows, f"{name} with {params} returned nothing on the real graph"
    if params:  # omitting the optional parameters also answers
        if not any(p.required for p in query.params):
            assert len(ask(catalog, real_store, name)) >= len(rows)
