"""The exchange workbook (DESIGN §5): import, export, the empty template, and the monthly DST list.

Reading. `read_workbook` takes an .xlsx (a path or its bytes), a folder of `<sheet>.csv` files, or
such files by name (`;`-separated UTF-8, decimal comma or point). Every cell becomes text; a date
cell of Excel is unambiguous and becomes YYYY-MM-DD, typed dates are `fmt.parse_date`'s two forms.
The sheet `vejledning` (the template's guide) is ignored; any other unknown sheet is an error, so
that a misspelt sheet is not silently left out.

Checking and importing. `check` runs the whole import through the service functions inside a
savepoint and rolls it back: every rule of `fokus.services` holds, and every bad row is listed
(each row in a savepoint of its own, so one refusal does not hide the next). `apply` runs it again
for real; one bad row refuses the file and the caller's transaction is rolled back by
`db.write_session`. Rows are written per citizen in the order the unit lived them: a referral,
its decision or its course (start, end), then the course's ORS and network meetings. A row equal
to one already stored is skipped; a stored key with other values, or a key twice in the file, is
an error. Keys: henvisninger (borger, henvist_dato), forloeb (forloeb), ors and netvaerksmoeder
(forloeb, dato), medarbejdere (initialer).

Decisions beyond DESIGN §5 (documented in the template's guide and the README):
- An optional sheet `medarbejdere` (initialer, navn, aktiv, hoejst_aktive_forloeb) carries the
  staff, because the capacity figure of `kpi` is theirs: without it a round trip could not give
  the same figures. A contact person the file does not describe is created with the initials as
  name and the default maximum.
- The workbook has no reason for a rejected or withdrawn referral: it is imported as "andet".
- A group named in `hold` that does not exist is created, starting on its earliest course start.
- SRS, group sessions, attendance and targets are not part of the workbook.
- The deletion register (`fokus.retention`) holds: a referral of a citizen in the register that
  was received on or before the day of the deletion is old data coming back, and is skipped with
  its course, ORS and network meetings (counted as such in the plan); a referral received after
  the deletion is new work with the citizen, and is imported, as `apply_register` keeps it too.

Exporting. `export_sheets` gives the same sheets (all the unit's data, or what touches a period:
a referral received by its end whose course, or decision, reaches its start, with the course's
ORS and meetings), `to_xlsx`/`write_csv_folder` write them. Every export is in the audit log as
one "exported" entry per citizen (so a citizen's log extract shows it) and one with the counts.
The monthly DST list is logged the same way.
"""

from __future__ import annotations

import calendar
import contextlib
import csv
import io
import math
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import Any, TypeVar

import openpyxl
import pandas as pd
import sqlalchemy as sa
from sqlmodel import Session, col, select

from fokus import audit, fmt, retention, services, tables
from fokus import validate as v
from fokus.actor import Actor
from fokus.clock import COPENHAGEN, busiest_day
from fokus.cpr import looks_like_cpr
from fokus.errors import ConflictError, NotFoundError, ValidationError
from fokus.models import Citizen, Course, Group, NetworkMeeting, OrsScore, Referral, Staff, Unit

# ---------------------------------------------------------------------------------------
# The contract: sheets, columns (in order) and the workbook's words for the codes

SHEETS: dict[str, tuple[str, ...]] = {
    "henvisninger": ("borger", "foedselsaar", "maalgruppe", "henviser", "henvist_dato", "revisitering_85",
                     "status", "afgjort_dato", "aldersnote"),
    "forloeb": ("forloeb", "borger", "henvist_dato", "start_dato", "form", "hold", "kontaktperson", "slut_dato",
                "afslutning", "efterfoelgende"),
    "ors": ("forloeb", "dato", "individuelt", "interpersonelt", "socialt", "generelt"),
    "netvaerksmoeder": ("forloeb", "dato", "deltagere"),
    "medarbejdere": ("initialer", "navn", "aktiv", "hoejst_aktive_forloeb"),
}
REQUIRED_SHEETS = ("henvisninger", "forloeb")
OPTIONAL_COLUMNS = frozenset({"aldersnote"})
GUIDE_SHEET = "vejledning"

TARGET_GROUPS = {"psykisk": "psychic", "fysisk": "physical", "social": "social"}
REFERRERS = {"socialcenter": "socialcenter", "jobcenter": "jobcenter", "andet": "other"}
STATUSES = {"venter": "waiting", "afvist": "rejected", "startet": "started", "trukket": "withdrawn"}
FORMS = {"gruppe": "group", "individuel": "individual"}
END_REASONS = {"gennemfoert": "completed", "afbrudt": "dropped_out", "flyttet": "moved", "andet": "other"}
NEXT_STEPS = {"ingen": "none", "sel85": "sel85", "anden_sel": "other_sel", "job": "job", "uddannelse": "education",
              "andet": "other"}
YES_NO = {"ja": True, "nej": False}
ITEMS = {"individuelt": "individual", "interpersonelt": "interpersonal", "socialt": "social", "generelt": "overall"}
IMPORTED_REASON = "other"  # the workbook has no reason for a rejected or withdrawn referral
DEFAULT_MAX_ACTIVE = 15

# The DST list: the legal basis of a course by its form (group course §82a, individual §82b).
LEGAL_BASIS = {"group": "§ 82a", "individual": "§ 82b"}
DST_COLUMNS = ("Borger", "Forløb", "Lovgrundlag", "Startdato", "Slutdato")

Progress = Callable[[int, int], None]
Sheets = dict[str, pd.DataFrame]


def _word(words: Mapping[str, str], code: str | None) -> str | None:
    return None if code is None else next(word for word, known in words.items() if known == code)


# ---------------------------------------------------------------------------------------
# Reading a workbook

@dataclass(frozen=True)
class Problem:
    """One reason the file is refused: where (sheet, the spreadsheet's row, column) and why."""

    sheet: str
    row: int | None  # 1 is the header; None: the whole sheet or file
    column: str
    reason: str

    def line(self) -> str:
        where = [f"ark {self.sheet}"] + ([f"række {self.row}"] if self.row else [])
        where += [f"kolonne {self.column}"] if self.column else []
        return f"{', '.join(where)}: {self.reason}"


@dataclass(frozen=True)
class Row:
    number: int  # the spreadsheet's row number
    cells: Mapping[str, str]


@dataclass(frozen=True)
class Workbook:
    sheets: Mapping[str, tuple[Row, ...]]
    problems: tuple[Problem, ...] = ()

    @property
    def row_count(self) -> int:
        return sum(len(rows) for rows in self.sheets.values())


def read_workbook(source: bytes | str | Path | Mapping[str, bytes]) -> Workbook:
    """An .xlsx (path or bytes), a folder of CSV files, or CSV files by name, as text cells."""
    if isinstance(source, Mapping):
        return _checked({Path(name).stem: _csv_grid(data) for name, data in source.items()})
    if isinstance(source, bytes):
        return _checked(_xlsx_grids(source))
    path = Path(source)
    if path.is_dir():
        return _checked({file.stem: _csv_grid(file.read_bytes()) for file in sorted(path.glob("*.csv"))})
    if not path.is_file():
        raise ValidationError(f"Filen {path} findes ikke.", "file")
    if path.suffix.lower() == ".csv":
        raise ValidationError("Angiv mappen med CSV-filerne (ét ark i hver fil), ikke én CSV-fil.", "file")
    return _checked(_xlsx_grids(path.read_bytes()))


Grid = list[tuple[int, list[str]]]


def _xlsx_grids(data: bytes) -> dict[str, Grid]:
    try:
        book = openpyxl.load_workbook(io.BytesIO(data))
        formulas = any(cell.data_type == "f" for sheet in book.worksheets for row in sheet.iter_rows() for cell in row)
        # A formula's value is the one Excel stored with it (none in a file no spreadsheet program has saved).
        values = openpyxl.load_workbook(io.BytesIO(data), data_only=True) if formulas else book
    except Exception as error:  # openpyxl raises many kinds for a file that is not an .xlsx
        raise ValidationError("Filen kan ikke læses som et Excel-regneark (.xlsx).", "file") from error
    grids = {}
    for sheet in values.worksheets:
        typed = book[sheet.title]
        grids[sheet.title] = [
            (number, [_Cell(str(typed.cell(number, column).value), "formel")
                      if cell.value is None and formulas and typed.cell(number, column).data_type == "f"
                      else _text(cell.value) for column, cell in enumerate(cells, start=1)])
            for number, cells in enumerate(sheet.iter_rows(), start=1)]
    return grids


def _csv_grid(data: bytes) -> Grid:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ValidationError("En CSV-fil er ikke gemt som UTF-8: gem den som »CSV UTF-8« og prøv igen.",
                              "file") from error
    return [(number, [cell.strip() for cell in cells])
            for number, cells in enumerate(csv.reader(io.StringIO(text), delimiter=";"), start=1)]


class _Cell(str):
    """The text of an Excel cell that was not text; `kind` says what it was (the reasons name it)."""

    kind: str

    def __new__(cls, text: str, kind: str) -> _Cell:
        cell = super().__new__(cls, text)
        cell.kind = kind
        return cell


EXACT_FLOAT = 2**53  # a whole number above this is not stored exactly in a number cell


def _text(value: object) -> str:
    """A cell as text; a date cell is unambiguous and becomes YYYY-MM-DD."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return _Cell(value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat(" "), "dato")
    if isinstance(value, date):
        return _Cell(value.isoformat(), "dato")
    if isinstance(value, time):
        return _Cell(value.isoformat(), "klokkeslæt")
    if isinstance(value, bool):
        return _Cell("ja" if value else "nej", "sandhedsværdi")
    if isinstance(value, float) and not math.isfinite(value):
        return _Cell(repr(value), "ugyldigt tal")
    if isinstance(value, float):
        text = str(int(value)) if value.is_integer() else repr(value)
        return _Cell(text, "upræcist tal") if abs(value) > EXACT_FLOAT else text
    return str(value).strip()


def _checked(grids: Mapping[str, Grid]) -> Workbook:
    problems: list[Problem] = []
    sheets: dict[str, tuple[Row, ...]] = {}
    for name, grid in grids.items():
        if name == GUIDE_SHEET:
            continue
        if name not in SHEETS:
            problems.append(Problem(name, None, "", f"Ukendt ark. Arkene hedder {', '.join(SHEETS)} (og "
                                                    f"{GUIDE_SHEET}, som ikke læses)."))
            continue
        sheets[name] = _rows(name, grid, problems)
    for name in REQUIRED_SHEETS:
        if name not in grids:
            problems.append(Problem(name, None, "", "Arket mangler: henvisninger og forloeb skal være med."))
    return Workbook(sheets, tuple(problems))


def _rows(sheet: str, grid: Grid, problems: list[Problem]) -> tuple[Row, ...]:
    filled = [(number, cells) for number, cells in grid if any(cells)]
    if not filled:
        problems.append(Problem(sheet, None, "", "Arket har ingen overskrifter: første række skal have kolonnernes "
                                                 "navne."))
        return ()
    header_row, header = filled[0]
    expected = SHEETS[sheet]
    columns: dict[int, str] = {}
    for index, name in enumerate(header):
        if not name:
            continue
        if name not in expected:
            problems.append(Problem(sheet, header_row, name, f"Ukendt kolonne. Arket {sheet} har kolonnerne "
                                                             f"{', '.join(expected)}."))
        elif name in columns.values():
            problems.append(Problem(sheet, header_row, name, "Kolonnen står to gange."))
        else:
            columns[index] = name
    for name in expected:
        if name not in columns.values() and name not in OPTIONAL_COLUMNS:
            problems.append(Problem(sheet, header_row, name, "Kolonnen mangler."))
    rows = []
    for number, cells in filled[1:]:
        if any(cell for index, cell in enumerate(cells) if cell and index not in columns and index < len(header)
               and not header[index]) or len(cells) > len(header) and any(cells[len(header):]):
            problems.append(Problem(sheet, number, "", "Rækken har en værdi i en kolonne uden overskrift."))
        rows.append(Row(number, {name: cells[index] if index < len(cells) else ""
                                 for index, name in columns.items()}))
    return tuple(rows)


# ---------------------------------------------------------------------------------------
# The rows, parsed (the first pass: each cell on its own, no database)

@dataclass(frozen=True)
class _Referral:
    row: int
    citizen: str
    birth_year: int
    target_group: str
    referrer: str
    received: date
    from_sel85: bool
    status: str
    decided: date | None
    age_note: str | None

    @property
    def key(self) -> tuple[str, date]:
        return (self.citizen, self.received)


@dataclass(frozen=True)
class _Course:
    row: int
    ref: str
    citizen: str
    received: date
    start: date
    form: str
    group: str | None
    contact: str | None
    end: date | None
    end_reason: str | None
    next_step: str | None


def _most_at_once(courses: list[_Course]) -> int:
    """The most of these courses running on one day, counted as the group's places are."""
    return busiest_day((course.start, course.end) for course in courses)[0]


@dataclass(frozen=True)
class _Ors:
    row: int
    course: str
    day: date
    items: dict[str, int]


@dataclass(frozen=True)
class _Meeting:
    row: int
    course: str
    day: date
    participants: int


@dataclass(frozen=True)
class _Staff:
    row: int
    initials: str
    name: str
    active: bool
    max_active: int


T = TypeVar("T")


class _Cells:
    """One row's cells, parsed one by one; each bad cell becomes a problem."""

    def __init__(self, sheet: str, row: Row, problems: list[Problem]) -> None:
        self.sheet, self.row, self.problems = sheet, row, problems
        self.ok = True
        for column, text in row.cells.items():
            kind = getattr(text, "kind", "")
            if kind == "formel":
                self.fail(column, f"Cellen har formlen {fmt.quoted(text)} uden en gemt værdi: skriv værdien i "
                                  "cellen, eller åbn og gem filen i Excel først.")
            elif kind == "ugyldigt tal":
                self.fail(column, "Cellen har ikke et gyldigt tal (NaN eller uendelig): skriv værdien.")
            elif text and looks_like_cpr(text):
                self.fail(column, "Cellen ligner et CPR-nummer. fokus må ikke gemme CPR-numre: brug sagsnummeret "
                                  "eller en lokal kode.")

    def fail(self, column: str, reason: str) -> None:
        """One problem per cell: the first reason found."""
        if not self.bad(column):
            self.problems.append(Problem(self.sheet, self.row.number, column, reason))
        self.ok = False

    def bad(self, column: str) -> bool:
        return any(p.sheet == self.sheet and p.row == self.row.number and p.column == column for p in self.problems)

    def get(self, column: str, parse: Callable[[str], T], *, required: bool = True) -> T | None:
        text = self.row.cells.get(column, "")
        if self.bad(column):
            return None
        if not text:
            if required:
                self.fail(column, "Cellen er tom: udfyld den.")
            return None
        if getattr(parse, "free_text", False) and (reason := _NOT_TEXT.get(getattr(text, "kind", ""))):
            self.fail(column, reason)
            return None
        try:
            return parse(text)
        except ValidationError as error:
            self.fail(column, error.message)
            return None

    def need(self, column: str, parse: Callable[[str], T]) -> T:
        """A required value; a placeholder where it is bad (the row is refused anyway, `ok` is False)."""
        return self.get(column, parse)  # type: ignore[return-value]


def _code(words: Mapping[str, str]) -> Callable[[str], str]:
    def parse(text: str) -> str:
        word = text.strip().lower()
        if word not in words:
            raise ValidationError(f"Ukendt værdi {fmt.quoted(text)}: brug {' | '.join(words)}.")
        return words[word]
    return parse


def _yes_no(text: str) -> bool:
    word = text.strip().lower()
    if word not in YES_NO:
        raise ValidationError(f"Ukendt værdi {fmt.quoted(text)}: brug ja | nej.")
    return YES_NO[word]


def _day(text: str) -> date:
    return fmt.parse_date(text, "date", "Datoen")


def _whole(low: int, high: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        if not re.fullmatch(r"\d+", text.strip()):
            raise ValidationError(f"{fmt.quoted(text)} er ikke et helt tal.")
        if len(text.strip().lstrip("0")) > len(str(high)):  # thousands of digits cannot even be converted
            raise ValidationError(f"Tallet skal ligge fra {low} til {high} (ikke {fmt.quoted(text.strip(), 12)}).")
        number = int(text)
        if not low <= number <= high:
            raise ValidationError(f"Tallet skal ligge fra {low} til {high} (ikke {number}).")
        return number
    return parse


def _text_of(label: str, max_length: int) -> Callable[[str], str]:
    def parse(text: str) -> str:
        return v.required_text(text, "text", label, max_length=max_length)
    parse.free_text = True  # type: ignore[attr-defined]
    return parse


# Excel cells that hold something else where the user's own text belongs: Excel changed what was typed.
_AS_TEXT = "formatér cellen som tekst, og skriv værdien igen."
_NOT_TEXT = {
    "dato": f"Cellen er en dato, men her skal stå tekst (Excel læser fx 3-4 som en dato): {_AS_TEXT}",
    "klokkeslæt": f"Cellen er et klokkeslæt, men her skal stå tekst: {_AS_TEXT}",
    "sandhedsværdi": f"Cellen er en sandhedsværdi (SAND/FALSK), men her skal stå tekst: {_AS_TEXT}",
    "upræcist tal": f"Tallet er for stort til, at Excel gemmer det præcist: {_AS_TEXT}",
}


def _item(text: str) -> int:
    return fmt.parse_score_item(text, "item", "Værdien")


@dataclass
class _Parsed:
    referrals: dict[tuple[str, date], _Referral] = field(default_factory=dict)
    courses: dict[str, _Course] = field(default_factory=dict)
    ors: dict[str, list[_Ors]] = field(default_factory=lambda: defaultdict(list))
    meetings: dict[str, list[_Meeting]] = field(default_factory=lambda: defaultdict(list))
    staff: list[_Staff] = field(default_factory=list)
    # Keys of rows in the file whatever their state: a bad row's dependants are not "unknown".
    referral_keys: set[tuple[str, date]] = field(default_factory=set)
    course_refs: set[str] = field(default_factory=set)
    course_referral_keys: set[tuple[str, date]] = field(default_factory=set)


def _parse(workbook: Workbook, problems: list[Problem]) -> _Parsed:
    parsed = _Parsed()
    for sheet, rows in workbook.sheets.items():
        seen: dict[object, int] = {}
        for row in rows:
            cells = _Cells(sheet, row, problems)
            key, record = _PARSERS[sheet](cells)
            _note_key(parsed, sheet, row, key)
            if key is not None:
                if key in seen:
                    cells.fail(SHEETS[sheet][0], f"Rækken gentager række {seen[key]} ({_key_text(sheet, key)}): "
                                                 "hver står kun én gang i filen.")
                    continue
                seen[key] = row.number
            if record is not None and cells.ok:
                _keep(parsed, record)
    return parsed


def _note_key(parsed: _Parsed, sheet: str, row: Row, key: Any) -> None:
    """Remember what a row names even when it is bad, so that its dependants are not called unknown."""
    if sheet == "henvisninger" and key is not None:
        parsed.referral_keys.add(key)
    elif sheet == "forloeb":
        if key is not None:
            parsed.course_refs.add(key)
        with contextlib.suppress(ValidationError):
            received = _day(row.cells.get("henvist_dato", ""))
            parsed.course_referral_keys.add((row.cells.get("borger", "").strip(), received))


def _key_text(sheet: str, key: Any) -> str:
    if sheet == "henvisninger":
        return f"borger {key[0]}, henvist {fmt.day(key[1])}"
    if sheet in ("ors", "netvaerksmoeder"):
        return f"forløb {key[0]}, dato {fmt.day(key[1])}"
    return f"{SHEETS[sheet][0]} {key}"


def _keep(parsed: _Parsed, record: object) -> None:
    if isinstance(record, _Referral):
        parsed.referrals[record.key] = record
    elif isinstance(record, _Course):
        parsed.courses[record.ref] = record
    elif isinstance(record, _Ors):
        parsed.ors[record.course].append(record)
    elif isinstance(record, _Meeting):
        parsed.meetings[record.course].append(record)
    elif isinstance(record, _Staff):
        parsed.staff.append(record)


def _parse_referral(c: _Cells) -> tuple[object, _Referral | None]:
    citizen = c.get("borger", _text_of("Borgerens reference", 40))
    received = c.get("henvist_dato", _day)
    year = c.need("foedselsaar", _whole(1900, 2100))
    target = c.need("maalgruppe", _code(TARGET_GROUPS))
    referrer = c.need("henviser", _code(REFERRERS))
    sel85 = c.get("revisitering_85", _yes_no, required=False) or False
    status = c.need("status", _code(STATUSES))
    decided = c.get("afgjort_dato", _day, required=False)
    note = c.get("aldersnote", _text_of("Aldersnoten", 500), required=False)
    if status == "waiting" and decided is not None:
        c.fail("afgjort_dato", "En ventende henvisning har ingen afgjort_dato: lad cellen stå tom.")
    if status in ("rejected", "withdrawn") and decided is None and not c.bad("afgjort_dato"):
        c.fail("afgjort_dato", "Udfyld afgjort_dato: dagen, henvisningen blev afvist eller trukket.")
    key = (citizen, received) if citizen is not None and received is not None else None
    if not c.ok or key is None:
        return key, None
    assert citizen is not None and received is not None
    return key, _Referral(c.row.number, citizen, year, target, referrer, received, sel85, status, decided, note)


def _parse_course(c: _Cells) -> tuple[object, _Course | None]:
    ref = c.get("forloeb", _text_of("Forløbets reference", 40))
    citizen = c.need("borger", _text_of("Borgerens reference", 40))
    received = c.need("henvist_dato", _day)
    start = c.need("start_dato", _day)
    form = c.need("form", _code(FORMS))
    group = c.get("hold", _text_of("Holdets navn", 80), required=False)
    contact = c.get("kontaktperson", _text_of("Kontaktpersonens initialer", 10), required=False)
    end = c.get("slut_dato", _day, required=False)
    reason = c.get("afslutning", _code(END_REASONS), required=False)
    step = c.get("efterfoelgende", _code(NEXT_STEPS), required=False)
    if end is None and not c.bad("slut_dato"):
        for column, value in (("afslutning", reason), ("efterfoelgende", step)):
            if value is not None:
                c.fail(column, "Et forløb uden slut_dato har ingen afslutning eller efterfølgende indsats endnu.")
    elif end is not None and reason is None and not c.bad("afslutning"):
        c.fail("afslutning", "Udfyld afslutning for et afsluttet forløb.")
    if not c.ok or ref is None:
        return ref, None
    return ref, _Course(c.row.number, ref, citizen, received, start, form, group,
                        contact.upper() if contact else None, end, reason, step)


def _parse_ors(c: _Cells) -> tuple[object, _Ors | None]:
    course = c.get("forloeb", _text_of("Forløbets reference", 40))
    day = c.get("dato", _day)
    items = {code: c.need(word, _item) for word, code in ITEMS.items()}
    key = (course, day) if course is not None and day is not None else None
    if not c.ok or key is None:
        return key, None
    assert course is not None and day is not None
    return key, _Ors(c.row.number, course, day, items)


def _parse_meeting(c: _Cells) -> tuple[object, _Meeting | None]:
    course = c.get("forloeb", _text_of("Forløbets reference", 40))
    day = c.get("dato", _day)
    participants = c.need("deltagere", _whole(1, 100))
    key = (course, day) if course is not None and day is not None else None
    if not c.ok or key is None:
        return key, None
    assert course is not None and day is not None
    return key, _Meeting(c.row.number, course, day, participants)


def _parse_staff(c: _Cells) -> tuple[object, _Staff | None]:
    initials = c.get("initialer", _text_of("Initialerne", 10))
    name = c.get("navn", _text_of("Navnet", 120), required=False)
    active = c.get("aktiv", _yes_no, required=False)
    most = c.get("hoejst_aktive_forloeb", _whole(0, 200), required=False)
    key = initials.upper() if initials else None
    if not c.ok or key is None:
        return key, None
    return key, _Staff(c.row.number, key, name or key, True if active is None else active,
                       DEFAULT_MAX_ACTIVE if most is None else most)


_PARSERS: dict[str, Callable[[_Cells], tuple[object, Any]]] = {
    "henvisninger": _parse_referral,
    "forloeb": _parse_course,
    "ors": _parse_ors,
    "netvaerksmoeder": _parse_meeting,
    "medarbejdere": _parse_staff,
}

# Where a service function's refusal belongs: its field → the sheet's column.
_COLUMNS: dict[str, dict[str, str]] = {
    "henvisninger": {"citizen_ref": "borger", "birth_year": "foedselsaar", "received": "henvist_dato",
                     "referrer": "henviser", "target_group": "maalgruppe", "from_sel85": "revisitering_85",
                     "age_note": "aldersnote", "decided": "afgjort_dato", "status": "status", "reason": "status"},
    "forloeb": {"ref": "forloeb", "start": "start_dato", "form": "form", "group_id": "hold", "name": "hold",
                "contact_person_id": "kontaktperson", "initials": "kontaktperson", "end": "slut_dato",
                "end_reason": "afslutning", "next_step": "efterfoelgende", "referral_id": "henvist_dato"},
    "ors": {"date": "dato", **{code: word for word, code in ITEMS.items()}},
    "netvaerksmoeder": {"date": "dato", "participants": "deltagere"},
    "medarbejdere": {"name": "navn", "initials": "initialer", "active": "aktiv",
                     "max_active_courses": "hoejst_aktive_forloeb"},
}


# ---------------------------------------------------------------------------------------
# Checking and importing (the second pass: through the service functions)

@dataclass
class Tally:
    """What an import adds, what it skips as already stored, and what the deletion register keeps out."""

    added: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SHEETS, 0))
    skipped: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SHEETS, 0))
    deleted: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SHEETS, 0))
    new_groups: list[str] = field(default_factory=list)
    new_staff: list[str] = field(default_factory=list)

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            [{"Ark": sheet, "Tilføjes": self.added[sheet], "Findes allerede": self.skipped[sheet],
              "Slettet borger (springes over)": self.deleted[sheet]} for sheet in SHEETS],
            columns=["Ark", "Tilføjes", "Findes allerede", "Slettet borger (springes over)"],
        )

    def summary(self) -> str:
        added = ", ".join(f"{count} {sheet}" for sheet, count in self.added.items() if count) or "intet"
        text = f"tilføjet: {added}; {sum(self.skipped.values())} rækker fandtes allerede"
        if any(self.deleted.values()):
            text += f"; {sum(self.deleted.values())} rækker om slettede borgere sprunget over"
        return text


@dataclass(frozen=True)
class Plan:
    """What `apply` will do with a workbook, as `check` found it (nothing written)."""

    unit_id: int
    workbook: Workbook
    problems: tuple[Problem, ...]
    tally: Tally

    @property
    def ok(self) -> bool:
        return not self.problems


class ImportRefused(ValidationError):
    """The file is refused: `problems` lists every bad row."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        super().__init__(f"Filen er afvist: {len(problems)} fejl. Intet er gemt.", "file")
        self.problems = tuple(problems)


def problems_frame(problems: Iterable[Problem]) -> pd.DataFrame:
    return pd.DataFrame(
        [{"Ark": p.sheet, "Række": p.row, "Kolonne": p.column, "Fejl": p.reason} for p in problems],
        columns=["Ark", "Række", "Kolonne", "Fejl"],
    ).astype({"Række": "Int64"})


def _require(actor: Actor, unit_id: int, what: str) -> None:
    actor.require_role("admin", "leader", what=what)
    actor.require_unit(unit_id)


def check(session: Session, actor: Actor, workbook: Workbook, unit_id: int, progress: Progress | None = None) -> Plan:
    """Every bad row of the workbook, and what an import would add and skip; nothing is kept.

    The import runs in a savepoint that is rolled back, so every rule of the service layer is
    checked against the database as it is (call it inside `db.write_session`).
    """
    _require(actor, unit_id, "import af data")
    info = dict(session.info)  # the data version must not move for a change that is rolled back
    savepoint = session.begin_nested()
    try:
        problems, tally = _Import(session, actor, unit_id, workbook, progress).run()
    finally:
        savepoint.rollback()
        session.info.clear()
        session.info.update(info)
    return Plan(unit_id, workbook, tuple(problems), tally)


def apply(session: Session, actor: Actor, plan: Plan, progress: Progress | None = None) -> Tally:
    """Import a checked workbook: all of it or, raising `ImportRefused`, nothing (in the caller's transaction)."""
    _require(actor, plan.unit_id, "import af data")
    if plan.problems:
        raise ImportRefused(plan.problems)
    return import_workbook(session, actor, plan.workbook, plan.unit_id, progress)


def import_workbook(session: Session, actor: Actor, workbook: Workbook, unit_id: int,
                    progress: Progress | None = None) -> Tally:
    """Check and import in one pass (the command line): all of it, or `ImportRefused` and nothing.

    The database may have changed since a plan was checked: the rows are checked again as they are written.
    """
    _require(actor, unit_id, "import af data")
    problems, tally = _Import(session, actor, unit_id, workbook, progress).run()
    if problems:
        raise ImportRefused(problems)
    audit.record(session, actor, "created", "", unit_id=unit_id, detail=f"import af udvekslingsfil: {tally.summary()}")
    return tally


class _Import:
    def __init__(self, session: Session, actor: Actor, unit_id: int, workbook: Workbook,
                 progress: Progress | None) -> None:
        unit = session.get(Unit, unit_id)
        if unit is None:
            raise NotFoundError("Enheden findes ikke (længere).")
        self.session, self.actor, self.unit, self.workbook = session, actor, unit, workbook
        self.problems: list[Problem] = list(workbook.problems)
        self.tally = Tally()
        self.progress, self.done, self.shown = progress, 0, -1
        self.handled: set[str] = set()  # course references whose ORS and meetings are dealt with
        self.deactivate: list[_Staff] = []

    # -- the stored rows a file row is compared with ------------------------------------
    def _load(self) -> None:
        s, unit_id = self.session, self.unit.id
        self.citizens = {c.ref: c for c in s.exec(select(Citizen).where(Citizen.unit_id == unit_id))}
        by_id = {c.id: c for c in self.citizens.values()}
        self.referrals = {(by_id[r.citizen_id].ref, r.received): r
                          for r in s.exec(select(Referral).where(Referral.unit_id == unit_id))}
        self.courses = {c.ref: c for c in s.exec(select(Course).where(Course.unit_id == unit_id))}
        self.course_of_referral = {c.referral_id: c for c in self.courses.values()}
        self.staff = {st.initials: st for st in s.exec(select(Staff).where(Staff.unit_id == unit_id))}
        self.groups = {g.name: g for g in s.exec(select(Group).where(Group.unit_id == unit_id))}
        ors = select(Course.ref, OrsScore).join(Course, col(Course.id) == OrsScore.course_id)
        self.stored_ors = {(ref, o.date): {code: getattr(o, code) for code in ITEMS.values()}
                           for ref, o in s.exec(ors.where(Course.unit_id == unit_id))}
        meetings = select(Course.ref, NetworkMeeting).join(Course, col(Course.id) == NetworkMeeting.course_id)
        self.stored_meetings = {(ref, m.date): m.participants
                                for ref, m in s.exec(meetings.where(Course.unit_id == unit_id))}
        self.register = {key: when.astimezone(COPENHAGEN).date()
                         for key, when in retention.register_hashes(s).items()}

    def run(self) -> tuple[list[Problem], Tally]:
        parsed = _parse(self.workbook, self.problems)
        self.parsed = parsed
        self._load()
        for row in parsed.staff:
            self._staff_row(row)
        self.courses_by_referral: dict[tuple[str, date], list[_Course]] = defaultdict(list)
        for course in parsed.courses.values():
            self.courses_by_referral[(course.citizen, course.received)].append(course)
        keys = set(parsed.referrals) | set(self.courses_by_referral)
        for key in sorted(keys, key=lambda k: (k[0], k[1])):
            self._referral_and_course(key)
        for ref in sorted((set(parsed.ors) | set(parsed.meetings)) - self.handled):
            self._children(ref, self.courses.get(ref))
        for row in self.deactivate:
            self._deactivate(row)
        if self.progress is not None:
            self.progress(self.workbook.row_count, self.workbook.row_count)
        return sorted(self.problems, key=_problem_order), self.tally

    def _tick(self, rows: int = 1) -> None:
        self.done += rows
        total = self.workbook.row_count
        if self.progress is not None and total and (percent := 100 * self.done // total) != self.shown:
            self.shown = percent
            self.progress(min(self.done, total), total)

    def _problem(self, sheet: str, row: int, column: str, reason: str) -> None:
        self.problems.append(Problem(sheet, row, column, reason))

    def _write(self, sheet: str, row: int, action: Callable[[], T]) -> T | None:
        """One row through the service functions, in a savepoint: a refusal is listed, not raised."""
        try:
            with self.session.begin_nested():
                return action()
        except (ValidationError, ConflictError, NotFoundError) as error:
            self._problem(sheet, row, _COLUMNS[sheet].get(error.field or "", ""), error.message)
        except sa.exc.IntegrityError:
            self._problem(sheet, row, "", "Rækken strider mod en regel i databasen.")
        return None

    def _differs(self, sheet: str, row: int, what: str, stored: Mapping[str, object],
                 given: Mapping[str, object]) -> bool:
        """A known key with other values: an error naming the columns (a stored row is never changed)."""
        columns = [column for column in given if stored[column] != given[column]]
        if columns:
            self._problem(sheet, row, columns[0],
                          f"{what} findes allerede i fokus med andre værdier i {', '.join(columns)} "
                          "(gemt: " + "; ".join(f"{c} = {_shown(stored[c])}" for c in columns) + "). "
                          "En import ændrer ikke gemte data: ret filen, eller ret dem i fokus.")
        return bool(columns)

    # -- staff ----------------------------------------------------------------------------
    def _staff_row(self, row: _Staff) -> None:
        self._tick()
        stored = self.staff.get(row.initials)
        if stored is not None:
            known = {"navn": stored.name, "aktiv": stored.active, "hoejst_aktive_forloeb": stored.max_active_courses}
            given = {"navn": row.name, "aktiv": row.active, "hoejst_aktive_forloeb": row.max_active}
            if not self._differs("medarbejdere", row.row, f"Medarbejderen {row.initials}", known, given):
                self.tally.skipped["medarbejdere"] += 1
            return
        staff = self._write("medarbejdere", row.row, lambda: services.add_staff(
            self.session, self.actor, unit_id=self.unit.id, name=row.name, initials=row.initials,
            max_active_courses=row.max_active))
        if staff is not None:
            self.staff[staff.initials] = staff
            self.tally.added["medarbejdere"] += 1
            if not row.active:
                self.deactivate.append(row)

    def _deactivate(self, row: _Staff) -> None:
        staff = self.staff[row.initials]
        self._write("medarbejdere", row.row, lambda: services.update_staff(
            self.session, self.actor, staff_id=staff.id, expected_version=None, name=row.name,
            initials=row.initials, active=False, max_active_courses=row.max_active))

    # -- a referral and its course ------------------------------------------------------
    def _referral_and_course(self, key: tuple[str, date]) -> None:
        row = self.parsed.referrals.get(key)
        courses = sorted(self.courses_by_referral.get(key, []), key=lambda c: c.row)
        for extra in courses[1:]:
            self._tick()
            self.handled.add(extra.ref)
            self._problem("forloeb", extra.row, "henvist_dato",
                          f"Henvisningen (borger {key[0]}, henvist {fmt.day(key[1])}) har allerede forløbet "
                          f"{courses[0].ref} i række {courses[0].row}: en henvisning har højst ét forløb.")
        course = courses[0] if courses else None
        if row is not None:
            self._tick()
        if course is not None:
            self._tick()
            self.handled.add(course.ref)
        if row is None and key in self.parsed.referral_keys:
            return  # the referral's own row is bad and listed
        if self._deleted(key):
            self._count_deleted(row, course)
            return
        if row is not None and not self._consistent(row, course):
            return
        referral = self._referral(key, row, course)
        if referral is not None and course is not None:
            self._course(course, referral)

    def _deleted(self, key: tuple[str, date]) -> bool:
        deleted_on = self.register.get(retention.ref_hash(self.unit.name, key[0]))
        return deleted_on is not None and key[1] <= deleted_on

    def _count_deleted(self, row: _Referral | None, course: _Course | None) -> None:
        if row is not None:
            self.tally.deleted["henvisninger"] += 1
        if course is not None:
            self.tally.deleted["forloeb"] += 1
            for sheet, rows in (("ors", self.parsed.ors), ("netvaerksmoeder", self.parsed.meetings)):
                self.tally.deleted[sheet] += len(rows.get(course.ref, []))
                self._tick(len(rows.get(course.ref, [])))

    def _consistent(self, row: _Referral, course: _Course | None) -> bool:
        status = _word(STATUSES, row.status)
        if (row.status == "started" and course is None and self._stored_course_of(row.key) is None
                and row.key not in self.parsed.course_referral_keys):
            self._problem("henvisninger", row.row, "status",
                          "Status startet, men arket forloeb har intet forløb for henvisningen (og fokus heller ikke).")
            return False
        if row.status != "started" and course is not None:
            self._problem("forloeb", course.row, "henvist_dato",
                          f"Henvisningen har status {status}: kun en startet henvisning har et forløb.")
            return False
        if row.status == "started" and course is not None and row.decided not in (None, course.start):
            self._problem("henvisninger", row.row, "afgjort_dato",
                          f"For en startet henvisning er afgjort_dato forløbets startdato ({fmt.day(course.start)}) "
                          "eller tom.")
            return False
        return True

    def _stored_course_of(self, key: tuple[str, date]) -> Course | None:
        referral = self.referrals.get(key)
        return None if referral is None else self.course_of_referral.get(referral.id)

    def _referral(self, key: tuple[str, date], row: _Referral | None, course: _Course | None) -> Referral | None:
        stored = self.referrals.get(key)
        if row is None:
            if stored is None and course is not None:
                self._problem("forloeb", course.row, "henvist_dato",
                              f"Ingen henvisning for borger {key[0]} henvist {fmt.day(key[1])}, hverken i arket "
                              "henvisninger eller i fokus: tilføj den i henvisninger.")
            return stored
        if stored is not None:
            citizen = self.citizens[key[0]]
            known = {"foedselsaar": citizen.birth_year, "maalgruppe": stored.target_group,
                     "henviser": stored.referrer, "revisitering_85": stored.from_sel85, "status": stored.status,
                     "afgjort_dato": stored.decided, "aldersnote": stored.age_note}
            given = {"foedselsaar": row.birth_year, "maalgruppe": row.target_group, "henviser": row.referrer,
                     "revisitering_85": row.from_sel85, "status": row.status,
                     "afgjort_dato": row.decided if row.decided is not None or row.status != "started"
                     else stored.decided, "aldersnote": row.age_note}
            what = f"Henvisningen (borger {key[0]}, henvist {fmt.day(key[1])})"
            if self._differs("henvisninger", row.row, what, _words(known), _words(given)):
                return None
            self.tally.skipped["henvisninger"] += 1
            return stored

        def write() -> Referral:
            referral = services.register_referral(
                self.session, self.actor, unit_id=self.unit.id, citizen_ref=row.citizen, birth_year=row.birth_year,
                received=row.received, referrer=row.referrer, target_group=row.target_group,
                from_sel85=row.from_sel85, age_note=row.age_note)
            if row.status in ("rejected", "withdrawn"):
                assert row.decided is not None
                services.decide_referral(self.session, self.actor, referral_id=referral.id, status=row.status,
                                         decided=row.decided, reason=IMPORTED_REASON)
            return referral

        referral = self._write("henvisninger", row.row, write)
        if referral is not None:
            self.tally.added["henvisninger"] += 1
            # Held here, the citizen stays in the session's identity map for the writes that follow.
            self.citizens.setdefault(row.citizen, self.session.get(Citizen, referral.citizen_id))  # type: ignore[arg-type]
        return referral

    def _course(self, row: _Course, referral: Referral) -> None:
        stored = self.courses.get(row.ref)
        if stored is not None:
            if stored.referral_id != referral.id:
                self._problem("forloeb", row.row, "forloeb",
                              f"Forløbet {row.ref} findes allerede i fokus for en anden henvisning.")
                return
            if self._differs("forloeb", row.row, f"Forløbet {row.ref}", self._course_values(stored),
                             _words(self._row_values(row))):
                return
            self.tally.skipped["forloeb"] += 1
            self._children(row.ref, stored)
            return
        other = self.course_of_referral.get(referral.id)
        if other is not None:
            self._problem("forloeb", row.row, "henvist_dato",
                          f"Henvisningen har allerede forløbet {other.ref} i fokus: en henvisning har højst ét forløb.")
            return

        group_id = self._group_id(row) if row.group else None
        contact_id = self._contact_id(row) if row.contact else None
        if (row.group and group_id is None) or (row.contact and contact_id is None):
            return

        def write() -> Course:
            course = services.start_course(
                self.session, self.actor, referral_id=referral.id, start=row.start, form=row.form,
                group_id=group_id, contact_person_id=contact_id, ref=row.ref, until=row.end)
            if row.end is not None:
                services.end_course(self.session, self.actor, course_id=course.id, end=row.end,
                                    end_reason=row.end_reason or "", next_step=row.next_step)
            return course

        course = self._write("forloeb", row.row, write)
        if course is not None:
            self.tally.added["forloeb"] += 1
            self._children(row.ref, course)

    def _course_values(self, course: Course) -> dict[str, object]:
        citizen = self.session.get(Citizen, course.citizen_id)
        assert citizen is not None
        referral = self.session.get(Referral, course.referral_id)
        assert referral is not None
        group = self.session.get(Group, course.group_id) if course.group_id else None
        staff = self.session.get(Staff, course.contact_person_id) if course.contact_person_id else None
        return _words({"borger": citizen.ref, "henvist_dato": referral.received, "start_dato": course.start,
                       "form": course.form, "hold": group.name if group else None,
                       "kontaktperson": staff.initials if staff else None, "slut_dato": course.end,
                       "afslutning": course.end_reason, "efterfoelgende": course.next_step})

    @staticmethod
    def _row_values(row: _Course) -> dict[str, object]:
        return {"borger": row.citizen, "henvist_dato": row.received, "start_dato": row.start, "form": row.form,
                "hold": row.group, "kontaktperson": row.contact, "slut_dato": row.end, "afslutning": row.end_reason,
                "efterfoelgende": row.next_step}

    def _group_id(self, row: _Course) -> int | None:
        """The named group, created when unknown: starting with its earliest course in the file, with
        places for the most of the file's courses on it at once (the workbook does not say how many)."""
        assert row.group is not None
        group = self.groups.get(row.group)
        if group is None:
            members = [c for c in self.parsed.courses.values() if c.group == row.group]
            first = min(c.start for c in members)
            places = max(services.GROUP_PLACES, _most_at_once(members))
            group = self._write("forloeb", row.row, lambda: services.create_group(
                self.session, self.actor, unit_id=self.unit.id, name=row.group or "", start=first, capacity=places))
            if group is None:
                return None
            self.groups[group.name] = group
            self.tally.new_groups.append(group.name)
        return group.id

    def _contact_id(self, row: _Course) -> int | None:
        """The contact person by initials, created (the initials as name) when unknown."""
        assert row.contact is not None
        staff = self.staff.get(row.contact)
        if staff is None:
            staff = self._write("forloeb", row.row, lambda: services.add_staff(
                self.session, self.actor, unit_id=self.unit.id, name=row.contact or "", initials=row.contact or ""))
            if staff is None:
                return None
            self.staff[staff.initials] = staff
            self.tally.new_staff.append(staff.initials)
        return staff.id

    # -- a course's ORS and network meetings --------------------------------------------
    def _children(self, ref: str, course: Course | None) -> None:
        self.handled.add(ref)
        scores = sorted(self.parsed.ors.get(ref, []), key=lambda o: o.day)
        meetings = sorted(self.parsed.meetings.get(ref, []), key=lambda m: m.day)
        self._tick(len(scores) + len(meetings))
        if course is None:
            if ref not in self.parsed.course_refs:
                for sheet, rows in (("ors", scores), ("netvaerksmoeder", meetings)):
                    for row in rows:
                        self._problem(sheet, row.row, "forloeb",
                                      f"Ukendt forløb {ref}: det står hverken i arket forloeb eller i fokus.")
            return  # else: the course's own row is refused, and listed
        writes: list[tuple[str, int, Callable[[], object]]] = []
        for score in scores:
            stored_items = self.stored_ors.get((ref, score.day))
            if stored_items is None:
                writes.append(("ors", score.row, lambda s=score, c=course.id: services.add_ors(
                    self.session, self.actor, course_id=c, day=s.day, items=s.items)))
                continue
            given = {word: score.items[code] / 10 for word, code in ITEMS.items()}
            known = {word: stored_items[code] / 10 for word, code in ITEMS.items()}
            if not self._differs("ors", score.row, f"ORS-målingen i forløb {ref} {fmt.day(score.day)}", known, given):
                self.tally.skipped["ors"] += 1
        for meeting in meetings:
            stored_count = self.stored_meetings.get((ref, meeting.day))
            if stored_count is None:
                writes.append(("netvaerksmoeder", meeting.row, lambda m=meeting, c=course.id: (
                    services.add_network_meeting(self.session, self.actor, course_id=c, day=m.day,
                                                 participants=m.participants))))
                continue
            if not self._differs("netvaerksmoeder", meeting.row, f"Netværksmødet i forløb {ref} "
                                 f"{fmt.day(meeting.day)}", {"deltagere": stored_count},
                                 {"deltagere": meeting.participants}):
                self.tally.skipped["netvaerksmoeder"] += 1
        self._write_all(writes)

    def _write_all(self, writes: Sequence[tuple[str, int, Callable[[], object]]]) -> None:
        """Several rows in one savepoint (fast); when one is refused, each again on its own to list every refusal."""
        try:
            with self.session.begin_nested():
                for _sheet, _row, action in writes:
                    action()
        except (ValidationError, ConflictError, NotFoundError, sa.exc.IntegrityError):
            for sheet, row, action in writes:
                if self._write(sheet, row, action) is not None:
                    self.tally.added[sheet] += 1
            return
        for sheet, _row, _action in writes:
            self.tally.added[sheet] += 1


def _problem_order(problem: Problem) -> tuple[int, int, int]:
    sheets = list(SHEETS)
    position = sheets.index(problem.sheet) if problem.sheet in sheets else -1
    columns = SHEETS.get(problem.sheet, ())
    column = columns.index(problem.column) if problem.column in columns else -1
    return (position, problem.row or 0, column)


def _words(values: Mapping[str, object]) -> dict[str, object]:
    """Stored or parsed code names as the workbook writes them (for comparing and messages)."""
    words = {"maalgruppe": TARGET_GROUPS, "henviser": REFERRERS, "status": STATUSES, "form": FORMS,
             "afslutning": END_REASONS, "efterfoelgende": NEXT_STEPS}
    return {column: _word(words[column], value) if column in words and isinstance(value, str | None) else value
            for column, value in values.items()}


def _shown(value: object) -> str:
    if value is None:
        return "tom"
    if isinstance(value, bool):
        return "ja" if value else "nej"
    if isinstance(value, date):
        return fmt.day(value)
    if isinstance(value, float):
        return fmt.number(value, 1)
    return str(value)


# ---------------------------------------------------------------------------------------
# Exporting

def export_sheets(session: Session, actor: Actor, unit_id: int, start: date | None = None,
                  end: date | None = None) -> Sheets:
    """The unit's data as the workbook's sheets: all of it, or what touches [start, end] (logged)."""
    _require(actor, unit_id, "udtræk af data")
    if start is not None and end is not None and start > end:
        raise ValidationError(f"Fra ({fmt.day(start)}) ligger efter til ({fmt.day(end)}).", "start")
    referrals = _referrals_in(unit_id, start, end)
    courses = select(Course.id).join(referrals, col(Course.referral_id) == referrals.c.id)
    sheets = {
        "henvisninger": _frame("henvisninger", (
            (ref, year, _word(TARGET_GROUPS, r.target_group), _word(REFERRERS, r.referrer), r.received,
             "ja" if r.from_sel85 else "nej", _word(STATUSES, r.status), r.decided, r.age_note)
            for r, ref, year in session.exec(
                select(Referral, Citizen.ref, Citizen.birth_year).join(Citizen, col(Citizen.id) == Referral.citizen_id)
                .where(col(Referral.id).in_(select(referrals.c.id))).order_by(Citizen.ref, Referral.received)))),
        "forloeb": _frame("forloeb", (
            (c.ref, ref, received, c.start, _word(FORMS, c.form), group, initials, c.end,
             _word(END_REASONS, c.end_reason), _word(NEXT_STEPS, c.next_step))
            for c, ref, received, group, initials in session.exec(
                select(Course, Citizen.ref, Referral.received, Group.name, Staff.initials)
                .join(Citizen, col(Citizen.id) == Course.citizen_id)
                .join(Referral, col(Referral.id) == Course.referral_id)
                .outerjoin(Group, col(Group.id) == Course.group_id)
                .outerjoin(Staff, col(Staff.id) == Course.contact_person_id)
                .where(col(Course.id).in_(courses)).order_by(Course.ref)))),
        "ors": _frame("ors", (
            (ref, o.date, *(getattr(o, code) / 10 for code in ITEMS.values()))
            for o, ref in session.exec(
                select(OrsScore, Course.ref).join(Course, col(Course.id) == OrsScore.course_id)
                .where(col(Course.id).in_(courses))
                .order_by(Course.ref, OrsScore.date, OrsScore.session_no, OrsScore.id)))),
        "netvaerksmoeder": _frame("netvaerksmoeder", (
            (ref, m.date, m.participants)
            for m, ref in session.exec(
                select(NetworkMeeting, Course.ref).join(Course, col(Course.id) == NetworkMeeting.course_id)
                .where(col(Course.id).in_(courses)).order_by(Course.ref, NetworkMeeting.date, NetworkMeeting.id)))),
        "medarbejdere": _frame("medarbejdere", (
            (s.initials, s.name, "ja" if s.active else "nej", s.max_active_courses)
            for s in session.exec(select(Staff).where(Staff.unit_id == unit_id).order_by(Staff.initials)))),
    }
    citizens = session.exec(select(Citizen).where(col(Citizen.id).in_(select(referrals.c.citizen_id)))
                            .order_by(Citizen.ref)).all()
    _log_export(session, actor, unit_id, citizens, "udvekslingsfil" + _period_text(start, end),
                ", ".join(f"{len(frame)} {name}" for name, frame in sheets.items()))
    return sheets


def _referrals_in(unit_id: int, start: date | None, end: date | None) -> Any:
    """The unit's referrals that touch the period: received by its end, decided or course reaching its start."""
    query = (select(Referral.id, Referral.citizen_id).outerjoin(Course, col(Course.referral_id) == Referral.id)
             .where(Referral.unit_id == unit_id))
    if end is not None:
        query = query.where(Referral.received <= end)
    if start is not None:
        query = query.where(sa.or_(
            sa.and_(col(Course.id).is_(None), sa.or_(col(Referral.decided).is_(None), col(Referral.decided) >= start)),
            sa.and_(col(Course.id).is_not(None), sa.or_(col(Course.end).is_(None), col(Course.end) >= start)),
        ))
    return query.subquery()


def _period_text(start: date | None, end: date | None) -> str:
    if start is None and end is None:
        return " (alle data)"
    return f" ({fmt.day(start) or 'start'}–{fmt.day(end) or 'i dag'})"


def _log_export(session: Session, actor: Actor, unit_id: int, citizens: Sequence[Citizen], what: str,
                counts: str) -> None:
    """One entry per citizen (their log extract shows it) and one with the counts."""
    for citizen in citizens:
        audit.record(session, actor, "exported", "citizen", citizen.id, citizen=citizen, detail=what)
    audit.record(session, actor, "exported", "", unit_id=unit_id,
                 detail=f"{what}: {len(citizens)} borgere; {counts}")


def _frame(sheet: str, rows: Iterable[tuple[Any, ...]]) -> pd.DataFrame:
    return pd.DataFrame(list(rows), columns=list(SHEETS[sheet]), dtype=object)


def export(session: Session, actor: Actor, unit_id: int, start: date | None = None, end: date | None = None) -> bytes:
    """The workbook as .xlsx: all the unit's data, or what touches [start, end]."""
    return to_xlsx(export_sheets(session, actor, unit_id, start, end))


def to_xlsx(sheets: Mapping[str, pd.DataFrame], guide: Sequence[str] = ()) -> bytes:
    """Sheets as an .xlsx: dates as dates (dd.mm.yyyy), ORS items with one decimal."""
    book = openpyxl.Workbook()
    assert book.active is not None
    book.remove(book.active)
    if guide:
        sheet = book.create_sheet(GUIDE_SHEET)
        for line in guide:
            sheet.append([line])
        sheet.column_dimensions["A"].width = 110
    for name, frame in sheets.items():
        sheet = book.create_sheet(name)
        sheet.append(list(frame.columns))
        for values in frame.itertuples(index=False):
            sheet.append([_cell(value) for value in values])
        for cells in sheet.iter_rows(min_row=2):
            for cell in cells:
                if isinstance(cell.value, datetime | date):
                    cell.number_format = "DD.MM.YYYY"
                elif isinstance(cell.value, float):
                    cell.number_format = "0.0"
        for index, column in enumerate(frame.columns, start=1):
            sheet.column_dimensions[openpyxl.utils.get_column_letter(index)].width = max(12, len(str(column)) + 2)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _cell(value: object) -> object:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    return value


def to_csv_files(sheets: Mapping[str, pd.DataFrame]) -> dict[str, bytes]:
    """Sheets as `<sheet>.csv` files: `;`-separated UTF-8, dates dd.mm.yyyy, decimal comma."""
    files = {}
    for name, frame in sheets.items():
        buffer = io.StringIO()
        writer = csv.writer(buffer, delimiter=";", lineterminator="\n")
        writer.writerow(frame.columns)
        for values in frame.itertuples(index=False):
            writer.writerow([_csv_text(value) for value in values])
        files[f"{name}.csv"] = buffer.getvalue().encode("utf-8-sig")
    return files


def write_csv_folder(sheets: Mapping[str, pd.DataFrame], folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, data in to_csv_files(sheets).items():
        (folder / name).write_bytes(data)
        written.append(folder / name)
    return written


def _csv_text(value: object) -> str:
    if _cell(value) is None:
        return ""
    if isinstance(value, date):
        return fmt.day(value)
    if isinstance(value, float):
        return f"{value:.1f}".replace(".", ",")
    return str(value)


GUIDE = (
    "Udvekslingsfil for fokus: sådan udfyldes den",
    "",
    "Arkene henvisninger og forloeb skal være med; ors, netvaerksmoeder og medarbejdere kan udelades.",
    "Overskrifterne i første række skal stå præcis som i skabelonen. En ukendt kolonne afviser filen.",
    "Datoer skrives dd.mm.åååå (03.04.2020 er 3. april) eller ÅÅÅÅ-MM-DD. Tomme celler betyder ukendt / endnu ikke.",
    "Skriv aldrig CPR-numre: brug sagsnummeret eller en lokal kode som borgerens reference.",
    "",
    "henvisninger: én række pr. henvisning (borger + henvist_dato).",
    "  maalgruppe: psykisk | fysisk | social · henviser: socialcenter | jobcenter | andet · revisitering_85: ja | nej",
    "  status: venter | afvist | startet | trukket · afgjort_dato: tom mens den venter; for startet forløbets start.",
    "  aldersnote: hvorfor en alder uden for 18–65 år er accepteret.",
    "forloeb: én række pr. forløb; forloeb er forløbets reference, borger + henvist_dato peger på henvisningen.",
    "  form: gruppe | individuel · hold: holdets navn · kontaktperson: medarbejderens initialer",
    "  (et ukendt hold eller en ukendt kontaktperson oprettes).",
    "  afslutning: gennemfoert | afbrudt | flyttet | andet · efterfoelgende: ingen | sel85 | anden_sel | job | "
    "uddannelse | andet",
    "ors: forloeb, dato og de fire værdier 0–10 med højst én decimal (komma eller punktum).",
    "netvaerksmoeder: forloeb, dato og antal deltagere.",
    "medarbejdere: initialer, navn, aktiv (ja | nej) og hoejst_aktive_forloeb.",
    "",
    "Importen gemmer alt eller intet: én fejl afviser filen, og alle fejl vises med ark, række og kolonne.",
    "En række, der allerede er gemt med de samme værdier, springes over: samme fil kan importeres to gange.",
    "Afviste og trukne henvisninger får årsagen »Andet«. Dette ark (vejledning) læses ikke.",
)


def template() -> bytes:
    """The empty workbook: every sheet with its headers, and a short Danish guide."""
    return to_xlsx({name: pd.DataFrame(columns=list(columns)) for name, columns in SHEETS.items()}, GUIDE)


# ---------------------------------------------------------------------------------------
# The monthly list for Danmarks Statistik

def dst_monthly(session: Session, actor: Actor, unit_id: int, year: int, month: int) -> pd.DataFrame:
    """Courses started or ended in the month: citizen, course, legal basis (§ 82a group, § 82b individual), dates.

    The list leaves the unit for the case system: each citizen on it is logged as exported.
    """
    _require(actor, unit_id, "listen til Danmarks Statistik")
    month_ = v.integer(month, "month", "Måned", low=1, high=12)
    year_ = v.integer(year, "year", "År", low=1990, high=2100)
    first = date(year_, month_, 1)
    last_day = date(year_, month_, calendar.monthrange(year_, month_)[1])
    rows = session.exec(
        select(Course, Citizen).join(Citizen, col(Citizen.id) == Course.citizen_id)
        .where(Course.unit_id == unit_id)
        .where(sa.or_(col(Course.start).between(first, last_day), col(Course.end).between(first, last_day)))
        .order_by(Course.start, Citizen.ref, Course.ref)
    ).all()
    frame = pd.DataFrame([(citizen.ref, course.ref, LEGAL_BASIS[course.form], course.start, course.end)
                          for course, citizen in rows], columns=list(DST_COLUMNS), dtype=object)
    citizens = list({citizen.id: citizen for _, citizen in rows}.values())
    _log_export(session, actor, unit_id, citizens, f"liste til Danmarks Statistik {month_:02d}.{year_}",
                f"{len(frame)} forløb")
    return frame


def dst_csv(frame: pd.DataFrame) -> bytes:
    """The DST list as CSV (Excel's Danish default: `;`, UTF-8 with BOM, dates dd.mm.yyyy)."""
    shown = frame.copy()
    for column in ("Startdato", "Slutdato"):
        shown[column] = [fmt.day(value) for value in shown[column]]
    return tables.to_csv_bytes(shown)


def dst_xlsx(frame: pd.DataFrame) -> bytes:
    return to_xlsx({"dst": frame})
