"""/explain for people: each rule's id beside its name and what it concluded in words, read from the rule
files and the ontology; the form pre-filled with labels, not full IRIs."""

import re
from html import unescape
from urllib.parse import urlencode

import pytest
from rdflib import Graph
from rdflib.namespace import SKOS

from api.linked_data import RULES_DIR
from graph.rules import load_rules
from vocab import SG

BROWSER = "text/html,application/xhtml+xml"
ONTOLOGY = RULES_DIR.parent / "swapgraph.ttl"


@pytest.fixture(scope="module")
def client(corpus_client):
    return corpus_client


def explain_html(client, s, p, o) -> str:
    response = client.get("/explain?" + urlencode({"s": s, "p": p, "o": o}), headers={"Accept": BROWSER})
    assert response.status_code == 200, response.text[:300]
    return response.text


def steps(html: str) -> list[str]:
    return [unescape(re.sub(r"<[^>]+>", "", m)) for m in re.findall(r'<p class="rule-step">(.*?)</p>', html, re.S)]


def test_each_rule_step_names_the_rule_in_words(client):
    html = explain_html(client, "Vladimir Kara-Murza", "released to", "Germany")
    labels = {rule.id: rule.label for rule in load_rules(RULES_DIR)}
    shown = steps(html)
    assert shown, "no derivation step shown"
    for text in shown:
        rule_id = text.split()[2]
        assert rule_id in labels and f"({labels[rule_id]})" in text


def test_the_step_says_what_the_concluded_property_means(client):
    definition = str(Graph().parse(ONTOLOGY).value(SG.releasedTo, SKOS.definition))
    words = re.sub(r"^Derived:\s*", "", definition)
    first = steps(explain_html(client, "Vladimir Kara-Murza", "released to", "Germany"))[0]
    assert first.startswith("by rule prp-spo2") and f"released to: {words}" in first


def test_the_form_is_prefilled_with_labels(client):
    html = explain_html(client, "person:vladimir-kara-murza", "sg:releasedTo", "state:DE")
    values = dict(re.findall(r'<input id="([spo])" name="[spo]" value="([^"]*)"', html))
    assert values == {"s": "Vladimir Kara-Murza", "p": "released to", "o": "Germany"}
    assert "https://" not in "".join(values.values())
