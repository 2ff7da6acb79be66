"""The exchange picture as a pure function: roll-up of overlapping releases, and the SVG it draws.

The releases below restate the 2024 Ankara exchange as the graph holds it (corpus/annotations/000_*.yaml):
sixteen released by Russia and Belarus (no receiving state), of whom thirteen went to Germany and three to
the United States; eight plus two minors released by five states to Russia; named people besides.
"""

import xml.etree.ElementTree as ET

from api.flow_svg import Entity, Release, describe, render, roll_up

SVG = "{http://www.w3.org/2000/svg}"
S = "https://w3id.org/swapgraph/id/state/"
P = "https://w3id.org/swapgraph/id/person/"
G = "https://w3id.org/swapgraph/id/group/"

RU, BY, DE, US, PL, SI, NO = (Entity(S + code, name) for code, name in (
    ("RU", "Russia"), ("BY", "Belarus"), ("DE", "Germany"), ("US", "United States"), ("PL", "Poland"),
    ("SI", "Slovenia"), ("NO", "Norway")))
WEST = frozenset({US, DE, PL, SI, NO})


def group(key, count, by, to=()):
    return Release("r:" + key, frozenset(by), frozenset(to), group=Entity(G + key, key.replace("-", " ")), count=count)


def person(key, label, by, to=()):
    return Release("r:" + key, frozenset(by), frozenset(to), person=Entity(P + key, label))


ANKARA = [
    group("sixteen", 16, {RU, BY}),
    group("thirteen-to-germany", 13, {RU, BY}, {DE}),
    group("three-to-us", 3, {RU, BY}, {US}),
    group("eight", 8, WEST, {RU}),
    group("two-minors", 2, WEST, {RU}),
    person("vladimir-kara-murza", "Vladimir Kara-Murza", {RU}, {DE}),
    person("evan-gershkovich", "Evan Gershkovich", {RU}),
    person("vadim-krasikov", "Vadim Krasikov", {DE}, {RU}),
]


def flow_to(diagram, *states):
    return next(f for f in diagram.flows if f.target == frozenset(states) and f.counted)


def svg_of(releases, **options):
    text = render(roll_up(releases), title="2024 Ankara prisoner exchange", **options)
    return text, ET.fromstring(text)


def all_text(root) -> str:
    return " ".join("".join(el.itertext()) for el in root.iter(SVG + "text"))


def test_an_aggregate_group_is_drawn_as_its_parts_not_counted_twice():
    diagram = roll_up(ANKARA)
    assert flow_to(diagram, DE).count == 13 and flow_to(diagram, US).count == 3
    assert not any(f.target == frozenset() and f.counted for f in diagram.flows)
    assert diagram.total == 13 + 3 + 10
    assert any("16" in note and "13" in note and "3" in note for note in diagram.notes)


def test_groups_between_the_same_states_add_up():
    flow = flow_to(roll_up(ANKARA), RU)
    assert flow.count == 10 and sorted(flow.parts) == [2, 8]


def test_a_named_person_is_listed_along_the_group_flow_that_fits_and_not_counted_again():
    diagram = roll_up(ANKARA)
    assert [p.label for p in flow_to(diagram, DE).named] == ["Vladimir Kara-Murza"]
    assert [p.label for p in flow_to(diagram, RU).named] == ["Vadim Krasikov"]


def test_a_person_with_no_receiving_state_and_several_possible_groups_is_dashed_and_uncounted():
    diagram = roll_up(ANKARA)
    dashed = [f for f in diagram.flows if not f.counted]
    assert [[p.label for p in f.named] for f in dashed] == [["Evan Gershkovich"]]
    assert dashed[0].target == frozenset() and dashed[0].count == 0


def test_people_without_groups_count_one_each_and_go_to_unstated_when_no_state_is_given():
    diagram = roll_up([person("viktor-bout", "Viktor Bout", {US}), person("brittney-griner", "Brittney Griner", {RU})])
    assert diagram.total == 2
    assert {f.target for f in diagram.flows} == {frozenset()}
    assert all(f.counted and f.count == 1 for f in diagram.flows)


def test_a_group_whose_parts_do_not_add_up_is_kept():
    diagram = roll_up([group("all", 20, {RU, BY}), group("some", 13, {RU, BY}, {DE})])
    assert diagram.total == 33 and not diagram.notes


def test_the_svg_is_accessible_and_names_states_counts_and_people():
    venue = Entity("https://w3id.org/swapgraph/id/place/ankara-esenboga-airport", "Ankara Esenboğa Airport")
    text, root = svg_of(ANKARA, venue=venue, mediators=(Entity(S + "TR", "Turkey"),), date="1 August 2024")
    assert root.get("role") == "group"
    title, desc = root.find(SVG + "title"), root.find(SVG + "desc")
    assert root.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"
    assert "Russia" in desc.text and "13" in desc.text
    assert root.get("viewBox").startswith("0 0 ") and "max-width:100%" in root.get("style")
    words = all_text(root)
    for expected in ("Germany", "Russia", "Belarus", "United States", "13 to Germany", "3 to United States",
                     "10 to Russia (8 + 2)", "Vladimir Kara-Murza", "Evan Gershkovich", "Ankara Esenboğa Airport",
                     "Turkey", "not stated"):
        assert expected in words, expected
    links = {a.get("href") for a in root.iter(SVG + "a")}
    assert {"/id/state/DE", "/id/state/RU", "/id/person/evan-gershkovich", "/id/state/TR"} <= links


def test_band_widths_follow_the_counts():
    _, root = svg_of(ANKARA)
    bands = {p.find(SVG + "title").text: p for p in root.iter(SVG + "path") if "band" in p.get("class", "")}

    def height(path):
        numbers = [float(n.split(",")[1]) for n in path.get("d").replace("M", " ").replace("L", " ").replace("C", " ")
                   .replace("Z", " ").split() if "," in n]
        return numbers[-1] - numbers[0]  # band top at the source to its bottom at the source

    germany = next(p for t, p in bands.items() if "13 to Germany" in t)
    america = next(p for t, p in bands.items() if "3 to United States" in t)
    assert abs(height(germany) / height(america) - 13 / 3) < 0.01


def test_no_releases_is_an_empty_picture_that_says_so():
    _, root = svg_of([])
    assert "No releases" in root.find(SVG + "desc").text


def test_labels_are_escaped():
    evil = [person("x", "<script>alert(1)</script> & co", {RU}, {DE})]
    text, root = svg_of(evil)
    assert "<script>" not in text and "<script>alert(1)</script> & co" in all_text(root)
    assert "released 1 to Germany" in describe(roll_up(evil))


def test_the_ident_is_escaped_in_attributes():
    text, root = svg_of(ANKARA, ident='flow-x" onload="alert(1)')
    assert 'onload="' not in text
    assert root.get("onload") is None
    assert root.find(SVG + "title").get("id") == 'flow-x" onload="alert(1)-title'
