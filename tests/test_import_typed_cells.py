"""Typed Excel cells in the import (issue 9, DESIGN §5): not text, but what Excel itself stores.

A good workbook (tests/test_exchange.good_sheets) is written with openpyxl with one TYPED cell in
turn in every column of every sheet: NaN, ±inf, 1e308, negative numbers, a huge integer, TRUE and
FALSE, a date and a date with a time where text or a number is expected, an Excel serial number
where a date is expected, formulas without a stored value ("=1+1", "=HYPERLINK(…)"), an empty
string and an empty cell. Each file is either refused — an `ImportRefused` whose problem names
that sheet, row and column with a Danish reason, and no table changed — or imported with the value
read the one way it can be read (a number where a number or free text belongs, TRUE as "ja", a
date cell where a date belongs). Never an unhandled exception, never half an import.

The figures (typed cells tried / refused / stored) are printed.
"""

from __future__ import annotations

import io
import itertools
import math
import re
import zipfile
from collections.abc import Iterator
from datetime import date, datetime, time
from typing import Any

import openpyxl
import pytest
from sqlmodel import select

from fokus import db, exchange, services
from fokus.actor import SYSTEM
from fokus.errors import FokusError
from fokus.exchange import SHEETS, ImportRefused
from tests.test_exchange import good_sheets
from tests.test_hostile_input import FREE_CELLS, counts

DANISH = re.compile(r"[a-zæøå]", re.IGNORECASE)

TYPED: dict[str, Any] = {
    "NaN": math.nan,
    "inf": math.inf,
    "-inf": -math.inf,
    "1e308": 1e308,
    "-5": -5,
    "-0.5": -0.5,
    "2.5": 2.5,
    "10**30": 10**30,
    "TRUE": True,
    "FALSE": False,
    "dato": date(2024, 3, 4),
    "dato med klokkeslæt": datetime(2024, 3, 4, 10, 30),
    "klokkeslæt": time(10, 30),
    "serienummer 45000": 45000,
    "=1+1": "=1+1",
    "=HYPERLINK": '=HYPERLINK("http://evil.example","klik")',
    "tom tekst": "",
    "tom celle": None,
}
# The columns whose cells are the user's own text, and where it is stored (model, attribute, as stored).
FREE_TEXT = FREE_CELLS
# Columns of text that name a row of another sheet (a number is a valid reference there too).
TEXT = {*FREE_TEXT, ("forloeb", "borger"), ("ors", "forloeb"), ("netvaerksmoeder", "forloeb")}
DATES = {"henvist_dato", "afgjort_dato", "start_dato", "slut_dato", "dato"}
NUMBERS = {"foedselsaar", "deltagere", "hoejst_aktive_forloeb", *exchange.ITEMS}
YES_NO = {"revisitering_85", "aktiv"}
FIGURES = {"tried": 0, "refused": 0, "stored": 0}
_serial = itertools.count(1)


def typed_xlsx(sheets: dict[str, list[dict[str, Any]]]) -> bytes:
    """The sheets as an .xlsx written cell by cell: each value with its own type (a formula as a formula)."""
    book = openpyxl.Workbook()
    book.remove(book.active)  # type: ignore[arg-type]
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        sheet.append(list(SHEETS[name]))
        for row in rows:
            sheet.append([_stand_in(row[column]) for column in SHEETS[name]])
    buffer = io.BytesIO()
    book.save(buffer)
    return _non_finite(buffer.getvalue())


# openpyxl writes NaN and ±inf as empty cells; another program may write them as numbers. The sheets are
# written with a stand-in number, which is then replaced in the file's XML by what such a program writes.
# openpyxl cannot read a number cell "NaN" at all: that file is refused as a whole ("kan ikke læses").
STAND_IN = {math.nan: 123456.25, math.inf: 123456.5, -math.inf: 123456.75}
WRITTEN = {123456.25: "NaN", 123456.5: "1E999", 123456.75: "-1E999"}  # 1E999: openpyxl reads ±inf


def _non_finite(data: bytes) -> bytes:
    source, out = zipfile.ZipFile(io.BytesIO(data)), io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            content = source.read(item.filename)
            if item.filename.startswith("xl/worksheets/"):
                for number, written in WRITTEN.items():
                    content = content.replace(f"<v>{number}</v>".encode(), f"<v>{written}</v>".encode())
            target.writestr(item, content)
    return out.getvalue()


def _stand_in(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return STAND_IN[math.inf] if value > 0 else STAND_IN[-math.inf] if value < 0 else STAND_IN[math.nan]
    return value


def cells() -> list[tuple[str, str]]:
    return [(sheet, column) for sheet, columns in SHEETS.items() for column in columns]


def may_store(sheet: str, column: str, label: str) -> bool:
    """Where a typed value has exactly one reading, it may be imported instead of refused."""
    value = TYPED[label]
    if label in ("tom tekst", "tom celle"):
        return True  # an optional column left empty (a required one is refused: checked below)
    if (sheet, column) in TEXT:
        return isinstance(value, int) and not isinstance(value, bool) or label in ("2.5", "-0.5")
    if column in NUMBERS:
        return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    if column in DATES:
        return label == "dato"
    if column in YES_NO:
        return isinstance(value, bool)
    return False


def import_typed(sheet: str, column: str, label: str) -> str:
    """"refused" or "stored"; fails the test on anything else."""
    with db.write_session() as s:
        unit_id = services.create_unit(s, SYSTEM, name=f"Typeenhed {next(_serial)}", municipality="Kommune").id
    sheets: dict[str, list[dict[str, Any]]] = {name: [dict(row) for row in rows]
                                               for name, rows in good_sheets().items()}
    sheets[sheet][0][column] = TYPED[label]
    before = counts()
    FIGURES["tried"] += 1
    where = f"{sheet}.{column} = {label}"
    try:
        with db.write_session() as s:
            exchange.import_workbook(s, SYSTEM, exchange.read_workbook(typed_xlsx(sheets)), unit_id)
    except ImportRefused as refused:
        assert counts() == before, f"{where}: half an import is stored"
        named = [p for p in refused.problems if (p.sheet, p.row, p.column) == (sheet, 2, column)]
        # A cell read as valid may still make the row disagree with another (a changed key, an empty slut_dato).
        assert named or may_store(sheet, column, label), (
            f"{where}: refused, but no problem names the cell: {[p.line() for p in refused.problems]}")
        for problem in refused.problems:
            assert DANISH.search(problem.reason) and len(problem.reason) <= 400, (where, problem)
            assert "Traceback" not in problem.reason and "Error" not in problem.reason, (where, problem)
        FIGURES["refused"] += 1
        return "refused"
    except FokusError as error:
        assert label == "NaN" and "kan ikke læses" in error.message, (
            f"{where}: refused as a whole file ({error.message}), not by its cell")
        assert counts() == before, f"{where}: half an import is stored"
        FIGURES["refused"] += 1
        return "refused"
    assert may_store(sheet, column, label), f"{where} was imported"
    if (sheet, column) in FREE_TEXT and TYPED[label] not in ("", None):
        model, attribute, reads = FREE_TEXT[(sheet, column)]
        with db.read_session() as s:
            stored = s.exec(select(getattr(model, attribute)).where(model.unit_id == unit_id)).all()  # type: ignore[attr-defined]
        value = TYPED[label]
        text = str(value)
        assert reads(text) in stored, (where, stored)
    FIGURES["stored"] += 1
    return "stored"


@pytest.fixture(scope="module", autouse=True)
def _figures() -> Iterator[None]:
    yield
    print(f"\ntyped cells: tried {FIGURES['tried']}, refused {FIGURES['refused']}, stored {FIGURES['stored']}")


@pytest.mark.slow  # about 2-3 s each: 32 imports
@pytest.mark.parametrize("label", list(TYPED))
def test_typed_cells_in_every_column_are_refused_by_cell_or_stored_as_meant(sqlite_url: str, label: str) -> None:
    outcomes = {f"{sheet}.{column}": import_typed(sheet, column, label) for sheet, column in cells()}
    print(f"{label}: {outcomes}; {FIGURES}")
