"""Danish formatting and parsing: the one place where numbers and dates become text and back.

Dates dd.mm.yyyy, decimal comma, thousands dot, ISO week numbers. Typed numbers accept a
decimal comma or point whatever the browser's language.
"""

from __future__ import annotations

import html
import math
import re
from datetime import UTC, date, datetime

from fokus.clock import COPENHAGEN
from fokus.errors import ValidationError

DANISH_MONTHS = ("jan", "feb", "mar", "apr", "maj", "jun", "jul", "aug", "sep", "okt", "nov", "dec")
DANISH_MONTH_NAMES = ("januar", "februar", "marts", "april", "maj", "juni", "juli", "august", "september",
                      "oktober", "november", "december")
NOTHING = "–"  # shown where a share or mean has nothing to be computed from


def number(value: float | int | None, decimals: int = 0) -> str:
    """1234.5 → '1.234,5'; None → '–'."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return NOTHING
    text = f"{value:,.{decimals}f}"
    return text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")


def integer(value: int | None) -> str:
    return number(value, 0)


def percent(share: float | None, decimals: int = 0) -> str:
    """A share 0–1 as a Danish percentage: 0.702 → '70 %'."""
    if share is None:
        return NOTHING
    return f"{number(share * 100, decimals)} %"


def signed_percent(value_pct: float | None, decimals: int = 1) -> str:
    """A change already in percent: 35.2 → '+35,2 %'."""
    if value_pct is None:
        return NOTHING
    sign = "+" if value_pct > 0 else ("−" if value_pct < 0 else "±")
    return f"{sign}{number(abs(value_pct), decimals)} %"


def change(
    now: float | None, before: float | None, *, share: bool = False, decimals: int = 0
) -> tuple[str, str] | None:
    """The change from `before` to `now` as text and arrow direction ('up', 'down' or 'off').

    Shares (0–1) change in percentage points. None when either side has nothing to show.
    """
    if now is None or before is None:
        return None
    difference = (now - before) * (100 if share else 1)
    if round(difference, decimals) == 0:
        return ("±0" + (" %-point" if share else ""), "off")
    sign, arrow = ("+", "up") if difference > 0 else ("−", "down")
    return f"{sign}{number(abs(difference), decimals)}{' %-point' if share else ''}", arrow


def day(value: date | None) -> str:
    return value.strftime("%d.%m.%Y") if value else ""


def moment(value: datetime | None) -> str:
    """A point in time as Copenhagen reads it: '03.03.2025 10:45'.

    A time without a zone is UTC: that is how SQLite hands stored timestamps back.
    """
    if value is None:
        return ""
    aware = value if value.tzinfo else value.replace(tzinfo=UTC)
    return aware.astimezone(COPENHAGEN).strftime("%d.%m.%Y %H:%M")


def month_label(value: date) -> str:
    return f"{DANISH_MONTHS[value.month - 1]} {value.year}"


def iso_week(value: date) -> str:
    year, week, _ = value.isocalendar()
    return f"uge {week} {year}"


def period(start: date, end: date) -> str:
    return f"{day(start)}–{day(end)}"


# What Markdown (with Streamlit's extensions: :red[…], :emoji:, $math$) and inline HTML act on
# within a line; the rest of ASCII punctuation (- . / , ' " = ? @ %) only matters at a line's start.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+!|<>~$:&^])")
_LINE_START = re.compile(r"^(\s*)([-=]|\d+(?=[.)]))")  # a list item "- x", "1. x" or a heading underline


def literal(text: object) -> str:
    """A user's text (a reference, a name, a note) to show inside Markdown exactly as typed.

    Streamlit renders st.markdown, st.write, st.caption, st.info … as Markdown: a reference such as
    `**x**`, `[klik](javascript:…)`, `![](http://…)` (an image fetched from another host), `<b>`,
    `:red[x]` or `$x$` would be interpreted. CommonMark lets a backslash escape any ASCII punctuation,
    so each character that could start such a construct is escaped and the text reads back
    literally; newlines become spaces.
    """
    one_line = " ".join(str(text).splitlines())
    escaped = _MARKDOWN_SPECIAL.sub(r"\\\1", one_line)
    return _LINE_START.sub(lambda m: m.group(1) + ("\\" + m.group(2) if not m.group(2).isdigit()
                                                   else m.group(2) + "\\"), escaped, count=1)


def chart_text(text: object) -> str:
    """A user's text (a group's or a colleague's name, a reference) to show in a chart exactly as typed.

    Plotly reads a label's `<b>`, `<br>`, `<a href=…>`, `<span style=…>` and entities such as `&lt;`
    as markup: a group named `<a href="https://…">Hold A</a>` would be a link on the dashboard. `<`,
    `>` and `&` are written as entities, which plotly shows as the characters; newlines become spaces.
    """
    return html.escape(" ".join(str(text).splitlines()), quote=False)


# In a whole message: the characters that start Markdown, Streamlit's :red[…]/:emoji: and inline HTML
# wherever they stand; "(" ")" "!" "#" "+" are harmless once "[" "]" are escaped, ":" before a space or a
# digit ("Borger X: …", "10:30", but not ":100:") and "_" between letters or digits ("afgjort_dato") too.
_MESSAGE_SPECIAL = re.compile(r"([\\`*\[\]|<>~$&]|:(?=[^\s\d]|\d+:)|(?<![^\W_])_|_(?![^\W_]))")
_MESSAGE_LINE_START = re.compile(r"^(\s*)([-=#+]|\d+(?=[.)]))")


def plain(message: object) -> str:
    """A whole message that may quote a user's text (a refusal, a confirmation), for st.error/st.success.

    Like `literal`, it reads back exactly as written and nothing in it is rendered as Markdown or HTML,
    but ordinary punctuation (. , ( ) : ! ' –) is left as it is, so the message reads the same in the
    page's source and in tests.
    """
    one_line = " ".join(str(message).splitlines())
    escaped = _MESSAGE_SPECIAL.sub(r"\\\1", one_line)
    return _MESSAGE_LINE_START.sub(lambda m: m.group(1) + ("\\" + m.group(2) if not m.group(2).isdigit()
                                                           else m.group(2) + "\\"), escaped, count=1)


def quoted(text: object, limit: int = 40) -> str:
    """A typed value quoted in a message: shortened when long, invisible characters shown as their code.

    A message names what was typed so the user can find it; a 100,000-character cell or an escape
    character must not become the message (nor reach the screen as a control code).
    """
    shown = "".join(ch if ch.isprintable() else f"\\u{ord(ch):04x}" for ch in str(text)[:limit])
    return f"'{shown}…'" if len(str(text)) > limit else f"'{shown}'"


_DATE_DK = re.compile(r"^\s*(\d{1,2})[.\-/](\d{1,2})[.\-/](\d{4})\s*$")
_DATE_ISO = re.compile(r"^\s*(\d{4})-(\d{2})-(\d{2})\s*$")


def parse_date(text: str, field: str = "date", label: str = "Datoen") -> date:
    """'03.04.2020' or '2020-04-03' → 3 April 2020; never guessed from other orders."""
    match = _DATE_ISO.match(text or "")
    parts = (match.group(1), match.group(2), match.group(3)) if match else None
    if parts is None:
        match = _DATE_DK.match(text or "")
        if match:
            parts = (match.group(3), match.group(2), match.group(1))
    if parts is None:
        raise ValidationError(f"{label} {quoted(text)} kan ikke læses: skriv den som dd.mm.åååå.", field)
    try:
        return date(int(parts[0]), int(parts[1]), int(parts[2]))
    except ValueError as error:
        raise ValidationError(f"{label} {quoted(text)} findes ikke i kalenderen.", field) from error


_DECIMAL = re.compile(r"^\s*([+-]?)(\d+)(?:[.,](\d+))?\s*$")


def parse_decimal(text: str | float | int, field: str, label: str) -> float:
    """'7,5' or '7.5' → 7.5. Thousands separators are not accepted in typed scores."""
    if isinstance(text, bool):
        raise ValidationError(f"{label} skal være et tal.", field)
    if isinstance(text, int | float):
        if isinstance(text, float) and not math.isfinite(text):
            raise ValidationError(f"{label} skal være et tal.", field)
        return float(text)
    match = _DECIMAL.match(text or "")
    if not match:
        raise ValidationError(f"{label} {quoted(text)} er ikke et tal: skriv fx 7,5.", field)
    sign, whole, fraction = match.groups()
    value = float(f"{sign}{whole}.{fraction or '0'}")
    if not math.isfinite(value):  # hundreds of digits make an infinite float
        raise ValidationError(f"{label} {quoted(text)} er alt for stort.", field)
    return value


def parse_score_item(text: str | float | int, field: str, label: str) -> int:
    """An ORS/SRS item typed as 0–10 with at most one decimal → whole tenths 0–100."""
    value = parse_decimal(text, field, label)
    if not 0 <= value <= 10:  # before × 10: a huge finite value (1e308, an Excel number cell) would overflow
        raise ValidationError(f"{label} skal ligge fra 0 til 10.", field)
    tenths = round(value * 10)
    if abs(value * 10 - tenths) > 1e-6:
        raise ValidationError(f"{label} må højst have én decimal (fx 7,5).", field)
    if not 0 <= tenths <= 100:
        raise ValidationError(f"{label} skal ligge fra 0 til 10.", field)
    return tenths


def tenths(value: int | None) -> str:
    """Whole tenths as a score: 75 → '7,5'."""
    return number(value / 10, 1) if value is not None else NOTHING
