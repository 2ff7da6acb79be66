"""Dates in a sentence as typed literals: absolute as precise as written, relative only against a document date."""

import datetime
import re
from dataclasses import dataclass

MONTHS = {name: number for number, name in enumerate(
    ("january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
     "november", "december"), start=1)}
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
MONTH = r"(January|February|March|April|May|June|July|August|September|October|November|December)"
DAY_MONTH_YEAR = re.compile(rf"\b(\d{{1,2}}) {MONTH},? (\d{{4}})\b")
MONTH_DAY_YEAR = re.compile(rf"\b{MONTH} (\d{{1,2}}),? (\d{{4}})\b")
DAY_MONTH = re.compile(rf"\b(\d{{1,2}}) {MONTH}\b(?!,? \d{{4}})")
MONTH_DAY = re.compile(rf"\b{MONTH} (\d{{1,2}})\b(?!,? \d{{4}})(?!\d)")
MONTH_YEAR = re.compile(rf"\b{MONTH} (\d{{4}})\b")
YEAR = re.compile(r"\b(?:in|of|since) ((?:1[89]|20)\d\d)\b(?! (?:people|prisoners|detainees))")  # `in 2010`
WEEKDAY = re.compile(r"\b(?:on |last )?(Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)\b")
LAST_WEEK = re.compile(r"\blast week\b")


@dataclass(frozen=True)
class DateMention:
    start: int  # offsets into the sentence text
    end: int
    value: str  # lexical form: 2024-08-01, 2022-04, --11-27 (no year known)
    datatype: str  # date | gYearMonth | gYear | gMonthDay (no year: never an sg:date) | unresolved
    flag: str | None = None  # why the value is partial, if it is


def _iso(year: int, month: int, day: int) -> str | None:
    try:
        return datetime.date(year, month, day).isoformat()
    except ValueError:
        return None


def find_dates(text: str, document_date: datetime.date | None) -> list[DateMention]:
    """Every date expression of the text, with what can be fixed without guessing."""
    found: list[DateMention] = []
    taken: list[range] = []

    def add(match, value, datatype, flag=None):
        if value is None or any(match.start() in span for span in taken):
            return
        taken.append(range(match.start(), match.end()))
        found.append(DateMention(match.start(), match.end(), value, datatype, flag))

    for match in DAY_MONTH_YEAR.finditer(text):
        add(match, _iso(int(match[3]), MONTHS[match[2].lower()], int(match[1])), "date")
    for match in MONTH_DAY_YEAR.finditer(text):
        add(match, _iso(int(match[3]), MONTHS[match[1].lower()], int(match[2])), "date")
    for match in list(DAY_MONTH.finditer(text)) + list(MONTH_DAY.finditer(text)):
        day, month = (match[1], match[2]) if match[1].isdigit() else (match[2], match[1])
        month_number = MONTHS[month.lower()]
        if document_date:  # the year of the document's date; a date after it would be in the past year
            year = document_date.year - (1 if (month_number, int(day)) > (document_date.month, document_date.day) else 0)
            add(match, _iso(year, month_number, int(day)), "date")
        else:
            add(match, f"--{month_number:02d}-{int(day):02d}", "gMonthDay", "no year: the document has no date")
    for match in MONTH_YEAR.finditer(text):
        add(match, f"{match[2]}-{MONTHS[match[1].lower()]:02d}", "gYearMonth")
    for match in YEAR.finditer(text):  # after the fuller forms: `in May 2010` is taken already
        add(match, match[1], "gYear")
    for match in WEEKDAY.finditer(text):
        add(match, *_weekday(match[1], document_date, last=match[0].startswith("last ")))
    for match in LAST_WEEK.finditer(text):
        flag = None if document_date else "relative date: the document has no date"
        value = (document_date - datetime.timedelta(days=7)).isoformat() if document_date else None
        if value:
            add(match, value, "date", "week before the document date: approximate")
        elif flag:
            found.append(DateMention(match.start(), match.end(), "", "unresolved", flag))
    return sorted(found, key=lambda mention: mention.start)


def _weekday(name: str, document_date: datetime.date | None, last: bool):
    """The latest such weekday on or before the document date (before it, for `last`)."""
    if document_date is None:
        return "", "unresolved", "relative date: the document has no date"
    back = (document_date.weekday() - WEEKDAYS.index(name.lower())) % 7
    if last and back == 0:
        back = 7
    return (document_date - datetime.timedelta(days=back)).isoformat(), "date", None
