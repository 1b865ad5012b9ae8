"""Udvalgsnotat: the committee's background note for a period and a unit, as Word and PDF.

`note` gathers the text, tables and charts from `fokus.dashboard.build` (the figures of
`fokus.metrics`, the one implementation the dashboard and `fokus kpi` use) and hides small
counts through `fokus.suppress` before anything is written: the note leaves the unit (DESIGN
§7). `documents` renders the charts to PNG once (kaleido, with Debian's chromium) and writes
the same note as .docx (python-docx) and .pdf (fpdf2, with DejaVu Sans for æ, ø and å).

Rules decided here:
- Every figure is shown against the previous equal period (`metrics.previous_period`) and the
  unit's targets in force on the period's last day; both columns are suppressed on their own.
- Shares are whole percentages, ORS progress one decimal, effect size two: a committee reads
  rounded figures; `fokus kpi --json` has the exact ones.
- A share's part is the share times its whole, rounded (each share is part / whole exactly).
- The clinically significant share's whole is the pairs that began below the cutoff; the
  further-measure share's is the courses ended with a next step recorded (both from the series).
- Capacity is a number of places, not of people: never hidden (as on the meeting screen).
- The charts are the meeting screen's bars (`fokus.screen`, `charts.screen_bars`): aggregates
  whose every bar is already suppressed. Without chromium the note is still made, without them,
  and says so.
"""

from __future__ import annotations

import io
import threading
import warnings
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import plotly.graph_objects as go
from sqlmodel import Session

from fokus import audit, charts, clock, codes, dashboard, fmt, metrics, screen, suppress, units
from fokus.actor import Actor
from fokus.errors import FokusError
from fokus.periods import Period

SLAGELSE_PROGRESS = screen.SLAGELSE_PROGRESS
SLAGELSE_FURTHER = screen.SLAGELSE_FURTHER
CHART_SIZE = (1200, 460)  # pixels; drawn 16 cm wide, the screen bars' type reads as about 9 pt
FONT_DIRS = (Path("/usr/share/fonts/truetype/dejavu"),)
FONT_FILES = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf"}


@dataclass(frozen=True)
class Table:
    title: str
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class Chart:
    title: str
    figure: go.Figure
    caption: str


@dataclass(frozen=True)
class Section:
    heading: str
    paragraphs: tuple[str, ...] = ()
    tables: tuple[Table, ...] = ()
    charts: tuple[Chart, ...] = ()


@dataclass(frozen=True)
class Note:
    title: str
    subtitle: str
    made: str  # when and by what
    file_stem: str  # e.g. "udvalgsnotat-fokus-faxe-2025-01-01-2025-12-31"
    sections: tuple[Section, ...]


# ---------------------------------------------------------------------------------------
# Suppressed figures

def _count(n: int) -> str:
    return suppress.count(int(n)).text


def _share(share: float | None, whole: int) -> str:
    part = 0 if share is None else round(share * whole)
    return suppress.share(part, int(whole)).text


def _statistic(value: float | None, cases: int, show: Callable[[float | None], str]) -> str:
    return suppress.statistic(value, int(cases), show).text


def _days(value: float | None) -> str:
    return f"{fmt.number(value)} dage" if value is not None else fmt.NOTHING


def _weeks(value: float | None) -> str:
    return f"{fmt.number(value, 1)} uger" if value is not None else fmt.NOTHING


def _band(low: float | None, high: float | None, unit: str) -> str:
    return f"{fmt.integer(low)}–{fmt.integer(high)} {unit}" if low is not None and high is not None else ""


@dataclass(frozen=True)
class _Side:
    """One period's figures with the wholes that the KPI JSON does not carry."""

    figures: dict[str, Any]
    below_cutoff: int  # ORS pairs that began below the cutoff
    next_steps: dict[str, int]  # courses ended per next step recorded

    def value(self, key: str) -> Any:
        return self.figures[key]


def _side(session: Session, actor: Actor, figures: dict[str, Any], start: date, end: date,
          unit_ids: Collection[int] | None, pairs: Any = None, steps: Any = None) -> _Side:
    pairs = metrics.ors_pairs_frame(session, actor, start, end, unit_ids) if pairs is None else pairs
    steps = metrics.next_steps(session, actor, start, end, unit_ids) if steps is None else steps
    return _Side(figures, int(pairs.loc[pairs["below_cutoff"], "pairs"].sum()),
                 {str(code): int(n) for code, n in zip(steps["code"], steps["courses"], strict=True)})


def _further(side: _Side) -> str:
    cells = suppress.breakdown(side.next_steps)
    return suppress.combined_share(side.next_steps, cells, codes.FURTHER_MEASURES).text


def _key_rows(now: _Side, before: _Side, t: metrics.Targets) -> tuple[tuple[str, ...], ...]:
    """The main table: label, this period, the previous period, the target or a reference."""
    rci = fmt.number(t.rci, 0) if t.rci is not None else "enhedernes egen"
    cutoff = fmt.number(t.ors_cutoff, 0) if t.ors_cutoff is not None else "enhedernes egen"
    rows: list[tuple[str, Callable[[_Side], str], str]] = [
        ("Henvisninger modtaget", lambda s: _count(s.value("referrals")), ""),
        ("Forløb startet", lambda s: _count(s.value("courses_started")), ""),
        ("Forløb startet de seneste 12 måneder", lambda s: _count(s.value("intake_12m")),
         f"{t.intake_min}–{t.intake_max} om året"),
        ("Andel startet i gruppe", lambda s: _share(s.value("group_share"), s.value("courses_started")),
         f"omkring {fmt.percent(t.group_share)}" if t.group_share is not None else ""),
        ("Ventetid fra henvisning til start, median",
         lambda s: _statistic(s.value("median_wait_days"), s.value("courses_started"), _days), ""),
        ("Aktive forløb ved periodens slutning", lambda s: _count(s.value("active_at_end")),
         f"kapacitet {fmt.integer(now.value('capacity'))}"),
        ("På venteliste ved periodens slutning", lambda s: _count(s.value("waiting_at_end")), ""),
        ("Forløb afsluttet", lambda s: _count(s.value("courses_ended")), ""),
        ("Forløbslængde, median",
         lambda s: _statistic(s.value("median_weeks"), s.value("courses_ended"), _weeks),
         _band(t.weeks_min, t.weeks_max, "uger")),
        ("Afsluttet efter 12–16 uger", lambda s: _share(s.value("share_12_16_weeks"), s.value("courses_ended")), ""),
        ("Forløb over 6 måneder", lambda s: _count(s.value("over_6_months")), "ingen"),
        ("Afsluttede forløb med to ORS-målinger", lambda s: _count(s.value("ors_pairs")), ""),
        ("ORS-fremgang, første til sidste måling",
         lambda s: _statistic(s.value("ors_progress_pct"), s.value("ors_pairs"), fmt.signed_percent),
         f"Slagelse {SLAGELSE_PROGRESS}"),
        ("Pålidelig forbedring", lambda s: _share(s.value("reliable_improvement_share"), s.value("ors_pairs")),
         f"mindst {rci} point frem"),
        ("Pålidelig forværring", lambda s: _share(s.value("reliable_deterioration_share"), s.value("ors_pairs")),
         f"mindst {rci} point tilbage"),
        ("Klinisk signifikant forbedring",
         lambda s: _share(s.value("clinically_significant_share"), s.below_cutoff),
         f"fra under {cutoff} til mindst {cutoff}"),
        ("Effektstørrelse", lambda s: _statistic(s.value("effect_size"), s.value("ors_pairs"),
                                                 lambda v: fmt.number(v, 2)), ""),
        ("Videre til § 85 eller anden SEL-indsats", _further, f"Slagelse {SLAGELSE_FURTHER}"),
        ("Netværksmøder afholdt", lambda s: _count(s.value("network_meetings")), ""),
        ("Afsluttede forløb med netværksmøde",
         lambda s: suppress.share(s.value("courses_with_network_meeting"), s.value("courses_ended")).text,
         ""),
    ]
    return tuple((label, show(now), show(before), target) for label, show, target in rows)


def _breakdown_rows(now: Mapping[str, int], before: Mapping[str, int], labels: Mapping[str, str]
                    ) -> tuple[tuple[str, ...], ...]:
    """Per code: count and share this period, count the previous; then the totals."""
    cells, before_cells = suppress.breakdown(now), suppress.breakdown(before)
    shares = suppress.breakdown_shares(now, cells)
    rows = [(labels[code], cells[code].text, shares[code].text, before_cells[code].text) for code in labels]
    rows.append(("I alt", _count(sum(now.values())), "100 %" if sum(now.values()) else fmt.NOTHING,
                 _count(sum(before.values()))))
    return tuple(rows)


# ---------------------------------------------------------------------------------------
# The note

def note(session: Session, actor: Actor, period: Period, unit_id: int | None = None) -> Note:
    """The committee note for `period` and one unit (None: every unit of the actor's), for
    leaders and administrators. Call it in a write session: the note is logged as an export."""
    actor.require_role("admin", "leader", what="udvalgsnotatet")
    if unit_id is not None:
        actor.require_unit(unit_id)
    names = units.visible_units(session, actor)
    unit_ids = None if unit_id is None else [unit_id]
    unit_name = names.get(unit_id, "") if unit_id is not None else (", ".join(names.values()) or "ingen enheder")
    view = dashboard.build(session, actor, period, unit_ids)
    now = _side(session, actor, view.figures, period.start, period.end, unit_ids,
                view.series["ors_pairs_frame"], view.series["next_steps"])
    before = _side(session, actor, view.before, *view.previous, unit_ids)
    made = clock.today()
    audit.record(session, actor, "exported", unit_id=unit_id,
                 detail=f"udvalgsnotat: {unit_name}, {fmt.period(period.start, period.end)}")
    label = fmt.period(period.start, period.end)
    slug = "".join(ch if ch.isalnum() else "-" for ch in unit_name.lower()).strip("-") or "alle"
    return Note(
        title=f"Udvalgsnotat: {unit_name}",
        subtitle=f"Forebyggende tilbud efter serviceloven § 82a og § 82b · {period.label}",
        made=f"Udarbejdet {fmt.day(made)} med fokus",
        file_stem=f"udvalgsnotat-{slug}-{period.start.isoformat()}-{period.end.isoformat()}",
        sections=_sections(view, now, before, label, fmt.period(*view.previous)),
    )


def _sections(view: dashboard.Dashboard, now: _Side, before: _Side, label: str, previous: str
              ) -> tuple[Section, ...]:
    f, t = view.figures, view.targets
    slides = {slide.key: slide for slide in screen.slides(view)}
    key = dict((row[0], row[1]) for row in _key_rows(now, before, t))

    def chart(slide_key: str, caption: str) -> tuple[Chart, ...]:
        slide = slides[slide_key]
        if slide.bars is None or slide.bars.empty:
            return ()
        figure = charts.screen_bars(slide.bars, title=slide.bars_title, percent=slide.percent, band=slide.band,
                                    height=CHART_SIZE[1])
        return (Chart(slide.bars_title, figure, caption),)

    referrers = _breakdown_rows(f["by_referrer"], before.value("by_referrer"), codes.REFERRERS)
    target_groups = _breakdown_rows(f["by_target_group"], before.value("by_target_group"), codes.TARGET_GROUPS)
    steps = _breakdown_rows(now.next_steps, before.next_steps, codes.NEXT_STEPS)
    quota = f" Jobcenterkontrakten giver op til {t.jobcenter_quota} henvisninger om året." if t.jobcenter_quota else ""
    breakdown_header = ("", "Antal", "Andel", "Forrige periode, antal")
    return (
        Section("Formål", (
            "Notatet giver udvalget et overblik over det forebyggende, tidsbegrænsede tilbud efter serviceloven "
            "§ 82a (gruppeforløb) og § 82b (individuel hjælp) i perioden " + label + ": hvor mange borgere der "
            "henvises og starter, hvor mange der starter i grupper, hvor lange forløbene er, om borgerne får det "
            "bedre målt med Outcome Rating Scale (ORS), og hvad de går videre til.",
            f"Tallene sammenlignes med enhedens mål og med den foregående periode af samme længde ({previous}).",
        )),
        Section("Hovedtal", (
            f"Perioden {label} mod perioden {previous} og målene. Antal på 1–4 vises som «<5», og andele og "
            "gennemsnit beregnet på færre end 5 borgere vises ikke («for få»), så ingen enkeltperson kan "
            "genkendes.",
        ), (Table("Hovedtal", ("Nøgletal", "Perioden", "Forrige periode", "Mål eller reference"),
                  _key_rows(now, before, t)),)),
        Section("Tilgang og henvisninger", (
            f"I perioden blev {key['Henvisninger modtaget']} borgere henvist, og {key['Forløb startet']} forløb "
            f"startede. De seneste 12 måneder startede {key['Forløb startet de seneste 12 måneder']} forløb, mod "
            f"målet på {t.intake_min}–{t.intake_max} om året. Ved periodens slutning var "
            f"{key['Aktive forløb ved periodens slutning']} borgere i forløb, og "
            f"{key['På venteliste ved periodens slutning']} ventede; ventetiden var i midten "
            f"{key['Ventetid fra henvisning til start, median']}." + quota,
        ), (
            Table("Henvisninger efter henviser", breakdown_header, referrers),
            Table("Henvisninger efter målgruppe", breakdown_header, target_groups),
        ), chart("intake", f"Forløb startet pr. kvartal, {label}. Det grønne bånd er målet omregnet til et "
                           "kvartal.")),
        Section("Gruppeforløb og varighed", (
            f"{key['Andel startet i gruppe']} af forløbene startede i en gruppe (målet er omkring "
            f"{fmt.percent(t.group_share)}). Forløbene varede i midten {key['Forløbslængde, median']}, og "
            f"{key['Afsluttet efter 12–16 uger']} blev afsluttet efter 12–16 uger; "
            f"{key['Forløb over 6 måneder']} forløb varede over 6 måneder.",
        ), (), chart("group_share", f"Andel af forløbene startet i en gruppe pr. kvartal, {label}. Den stiplede "
                                    "linje er målet.")),
        Section("Borgernes fremgang (ORS)", (
            f"{key['Afsluttede forløb med to ORS-målinger']} afsluttede forløb har mindst to ORS-målinger. Fra "
            f"første til sidste måling var fremgangen {key['ORS-fremgang, første til sidste måling']} (Slagelse: "
            f"{SLAGELSE_PROGRESS}). {key['Pålidelig forbedring']} fik det pålideligt bedre og "
            f"{key['Pålidelig forværring']} pålideligt dårligere; effektstørrelsen var {key['Effektstørrelse']}.",
        ), (), chart("ors", f"Afsluttede forløb efter pålidelig ændring fra første til sidste ORS-måling, {label}.")),
        Section("Efter forløbet", (
            f"{key['Videre til § 85 eller anden SEL-indsats']} af de afsluttede forløb med en registreret "
            f"efterfølgende indsats gik videre til § 85 eller en anden indsats efter serviceloven (Slagelse: "
            f"{SLAGELSE_FURTHER}).",
        ), (Table("Efterfølgende indsats for afsluttede forløb", breakdown_header, steps),),
            chart("next_steps", f"Efterfølgende indsats, andel af de afsluttede forløb, {label}.")),
        Section("Netværksmøder (Åben Dialog)", (
            f"I perioden blev der holdt {key['Netværksmøder afholdt']} "
            f"netværksmøder, og {key['Afsluttede forløb med netværksmøde']} af de afsluttede forløb havde "
            "mindst ét.",
        )),
        Section("Metode og datagrundlag", _methods(t)),
    )


def _methods(t: metrics.Targets) -> tuple[str, ...]:
    rci = fmt.number(t.rci if t.rci is not None else 5, 0)
    cutoff = fmt.number(t.ors_cutoff if t.ors_cutoff is not None else 25, 0)
    return (
        "Tallene er hentet fra enhedens registreringer i fokus med de samme beregninger som enhedens overblik. "
        "En periode omfatter begge sine dage. Et forløb tæller med i perioden, når det er startet eller "
        "afsluttet i den; aktive forløb og venteliste gælder periodens sidste dag. Varigheden er dagene fra "
        "start til afslutning delt med 7.",
        "ORS (Outcome Rating Scale) har fire spørgsmål, hver 0–10, i alt 0–40; højere er bedre. For hvert "
        "afsluttet forløb med mindst to målinger sammenlignes første og sidste samlede score. Fremgangen i "
        "procent er (gennemsnittet af sidste − gennemsnittet af første) / gennemsnittet af første × 100. En "
        f"ændring på mindst {rci} point er pålidelig (Reliable Change Index). Klinisk signifikant forbedring: "
        f"en borger, der startede under grænsen på {cutoff} point, slutter på eller over den med pålidelig "
        "fremgang. Effektstørrelsen er den gennemsnitlige ændring delt med spredningen af de første scorer.",
        "Små tal: antal på 1–4 vises som «<5», og andele, gennemsnit og ændringer beregnet på 1–4 borgere "
        "vises ikke. Hvor en sum ellers ville afsløre et skjult tal, skjules også det næstmindste («skjult»).",
        "Outcome Rating Scale og Session Rating Scale er licenserede redskaber (Scott D. Miller og Barry L. "
        "Duncan). fokus registrerer kun scorerne; enheden skal selv have licens til at bruge skemaerne.",
    )


# ---------------------------------------------------------------------------------------
# The documents

_kaleido_lock = threading.Lock()
_kaleido_started = False


def chart_images(note: Note) -> list[bytes] | None:
    """Every chart of the note as PNG, in order; None when they cannot be drawn here (no chromium)."""
    global _kaleido_started
    figures = [chart.figure for section in note.sections for chart in section.charts]
    try:
        import kaleido

        with _kaleido_lock:
            if not _kaleido_started:
                kaleido.start_sync_server(silence_warnings=True)
                _kaleido_started = True
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # "kopts is ignored if using a server"
                return [figure.to_image(format="png", width=CHART_SIZE[0], height=CHART_SIZE[1])
                        for figure in figures]
    except Exception:  # noqa: BLE001 — no browser, or it failed: the note without its charts
        return None


NO_CHARTS = "Graferne kunne ikke tegnes på denne server (chromium mangler); tallene står i tabellerne."


def documents(note: Note) -> tuple[bytes, bytes]:
    """The note as .docx and as .pdf, with the same charts."""
    images = chart_images(note)
    return to_docx(note, images), to_pdf(note, images)


def _with_images(note: Note, images: Sequence[bytes] | None) -> list[tuple[Section, list[tuple[Chart, bytes]]]]:
    found = iter(images or [])
    return [(section, [(chart, next(found)) for chart in section.charts] if images is not None else [])
            for section in note.sections]


def to_docx(note: Note, images: Sequence[bytes] | None) -> bytes:
    from docx import Document
    from docx.shared import Cm, Pt

    doc = Document()
    doc.core_properties.title = note.title
    doc.core_properties.author = "fokus"
    doc.styles["Normal"].font.size = Pt(10.5)
    for section_ in doc.sections:
        section_.left_margin = section_.right_margin = Cm(2.2)
    doc.add_heading(note.title, level=0)
    doc.add_paragraph(note.subtitle)
    doc.add_paragraph(note.made).runs[0].italic = True
    if images is None:
        doc.add_paragraph(NO_CHARTS)
    for section, drawn in _with_images(note, images):
        doc.add_heading(section.heading, level=1)
        for text in section.paragraphs:
            doc.add_paragraph(text)
        for table in section.tables:
            if len(section.tables) > 1 or table.title != section.heading:
                doc.add_paragraph(table.title).runs[0].bold = True
            grid = doc.add_table(rows=1, cols=len(table.header))
            grid.style = "Light Grid Accent 1"
            for cell, text in zip(grid.rows[0].cells, table.header, strict=True):
                cell.text = text
            for row in table.rows:
                for cell, text in zip(grid.add_row().cells, row, strict=True):
                    cell.text = text
            doc.add_paragraph()
        for chart, png in drawn:
            doc.add_picture(io.BytesIO(png), width=Cm(16.5))
            doc.add_paragraph(chart.caption).runs[0].italic = True
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def _font_files() -> dict[str, Path]:
    for folder in FONT_DIRS:
        found = {style: folder / name for style, name in FONT_FILES.items()}
        if all(path.is_file() for path in found.values()):
            return found
    raise FokusError("Skrifttypen DejaVu Sans mangler på serveren, så PDF'en kan ikke laves "
                     "(Debian: apt-get install fonts-dejavu-core).")


def to_pdf(note: Note, images: Sequence[bytes] | None) -> bytes:
    from fpdf import FPDF
    from fpdf.fonts import FontFace

    class _Pdf(FPDF):
        def footer(self) -> None:
            self.set_y(-14)
            self.set_font("DejaVu", size=8)
            self.set_text_color(90)
            self.cell(0, 6, f"{note.title} · side {self.page_no()} af {{nb}}", align="C")

    pdf = _Pdf(format="A4")
    pdf.set_title(note.title)
    pdf.set_author("fokus")
    for style, path in _font_files().items():
        pdf.add_font("DejaVu", style, str(path))
    pdf.set_margins(20, 18, 20)
    pdf.set_auto_page_break(True, margin=20)
    pdf.add_page()
    width = pdf.epw

    def text(body: str, size: float = 10, style: str = "", space: float = 2) -> None:
        pdf.set_font("DejaVu", style, size)
        pdf.multi_cell(width, size * 0.5, body, align="L", new_x="LMARGIN", new_y="NEXT")
        pdf.ln(space)

    text(note.title, 18, "B", 1)
    text(note.subtitle, 10.5)
    text(note.made, 9, space=4)
    if images is None:
        text(NO_CHARTS, 9)
    for section, drawn in _with_images(note, images):
        if pdf.will_page_break(30):
            pdf.add_page()
        text(section.heading, 13, "B", 1)
        for body in section.paragraphs:
            text(body)
        for table in section.tables:
            if len(section.tables) > 1 or table.title != section.heading:
                text(table.title, 10, "B", 1)
            pdf.set_font("DejaVu", size=9)
            widths = (40, 16, 20, 24) if table.header[0] else (40, 20, 20, 20)  # the main table has targets
            with pdf.table(col_widths=widths, text_align=("LEFT", *("RIGHT",) * 3),
                           headings_style=FontFace(emphasis="BOLD", fill_color=(226, 234, 240)),
                           line_height=4.6, padding=1.2, first_row_as_headings=True) as grid:
                for row in (table.header, *table.rows):
                    cells = grid.row()
                    for value in row:
                        cells.cell(value)
            pdf.ln(4)
        for chart, png in drawn:
            height = width * CHART_SIZE[1] / CHART_SIZE[0]
            if pdf.will_page_break(height + 12):
                pdf.add_page()
            pdf.image(io.BytesIO(png), w=width, h=height)
            text(chart.caption, 8.5, space=4)
    return bytes(pdf.output())
