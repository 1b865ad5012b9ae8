"""Mødeskærm: the unit's figures on the wall, rotating slides of aggregates only (issue 6).

The meeting screen role sees this page alone, without menu, header or toolbar (`app.py`); a
leader and an administrator see it as a preview, with the screen's settings and the screens'
access below. The slides come from `fokus.screen` (suppressed there); this page only draws them.

Refreshing: a fragment runs every slide time (at most a minute), shows the next slide and reads
the figures again (cached on the data version, so a save anywhere shows at the next slide). Each
run resumes the login session: for a screen that is its activity (it is never signed out for
idleness while it runs, only after `session_max_hours` or when its access is revoked, and then
it shows the login page); a leader's preview does not count as activity.
`?tema=moerk` / `?tema=lys` choose the theme for one screen; `?dias=ors` (a slide's key) holds
one slide still.
"""

from __future__ import annotations

import html

import streamlit as st

from fokus import auth, charts, clock, db, fmt, periods, screen, screen_access, signin, ui, units
from fokus.errors import FokusError

actor = ui.page_actor("moedeskaerm")
IS_SCREEN = actor.role == "screen"
INDEX_KEY = "moedeskaerm-index"

with db.read_session() as session:
    chosen_settings = screen.settings_of(session, actor)
theme = st.query_params.get("tema")
DARK = theme == "moerk" if theme in ("moerk", "lys") else chosen_settings.dark
PINNED = st.query_params.get("dias")
TEXT, _, BACKGROUND, _ = charts.SCREEN_THEMES["dark" if DARK else "light"]
ACCENT = "#7cc7f0" if DARK else "#0b5f77"

hide_chrome = f"""
[data-testid="stHeader"], [data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"],
[data-testid="stToolbar"], [data-testid="stDecoration"], [data-testid="stStatusWidget"] {{display: none;}}
.block-container {{max-width: none; padding: 2.2rem 3.5rem 1rem 3.5rem;}}
.stApp, .stApp header {{background: {BACKGROUND};}}
""" if IS_SCREEN else ""
st.html(f"""<style>{hide_chrome}
.st-key-moedeskaerm-slide {{background: {BACKGROUND}; color: {TEXT}; padding: 1.2rem 1.6rem; border-radius: 0.4rem;}}
.st-key-moedeskaerm-slide h1 {{color: {TEXT}; font-size: 4.2rem; font-weight: 700; padding: 0;}}
.fokus-message {{font-size: 2.6rem; line-height: 1.25; margin: 0.2rem 0 1.6rem 0; color: {TEXT};}}
.fokus-big {{margin-bottom: 1.4rem;}}
.fokus-big .v {{font-size: 7rem; font-weight: 700; line-height: 1; color: {ACCENT};}}
.fokus-big .l {{font-size: 2rem; color: {TEXT};}}
.fokus-target {{font-size: 2.2rem; font-weight: 600; color: {TEXT}; border-left: 0.5rem solid {ACCENT};
  padding-left: 1rem; margin-top: 0.6rem;}}
.fokus-foot {{display: flex; justify-content: space-between; font-size: 1.5rem; color: {TEXT}; margin-top: 1rem;}}
.fokus-dots span {{display: inline-block; width: 1.1rem; height: 1.1rem; margin-left: 0.5rem; border-radius: 50%;
  border: 2px solid {TEXT};}}
.fokus-dots span.on {{background: {TEXT};}}
@media (max-height: 800px) {{  /* 1280×720 */
  .st-key-moedeskaerm-slide h1 {{font-size: 3rem;}}
  .fokus-message {{font-size: 1.9rem; margin-bottom: 0.8rem;}}
  .fokus-big {{margin-bottom: 0.7rem;}}
  .fokus-big .v {{font-size: 4.6rem;}}
  .fokus-big .l {{font-size: 1.5rem;}}
  .fokus-target {{font-size: 1.6rem;}}
}}
</style>""")


def slide_html(slide: screen.Slide) -> str:
    figures = "".join(
        f'<div class="fokus-big"><div class="v">{html.escape(big.text)}</div>'
        f'<div class="l">{html.escape(big.label)}</div></div>' for big in slide.figures)
    return f'<div class="fokus-message">{html.escape(slide.message)}</div>{figures}'


def footer_html(slide: screen.Slide, number: int, count: int) -> str:
    dots = "".join(f'<span class="{"on" if n == number else ""}"></span>' for n in range(count))
    return (f'<div class="fokus-target">{html.escape(slide.target)}</div>'
            f'<div class="fokus-foot"><span>{html.escape(slide.period)}</span>'
            f'<span class="fokus-dots" role="img" aria-label="Dias {number + 1} af {count}">{dots}</span></div>')


@st.fragment(run_every=chosen_settings.slide_seconds)
def show_slide() -> None:
    # The screen's refresh is its activity; a revoked or expired session shows the login page.
    if auth.resume(st.session_state.get(signin.TOKEN_KEY), touch=IS_SCREEN) is None:
        st.rerun(scope="app")
    with db.read_session() as session:
        chosen = screen.settings_of(session, actor).chosen
    view = ui.cached_dashboard(actor, periods.rolling_12_months(clock.today()))
    slides = screen.slides(view, chosen)
    with st.container(key="moedeskaerm-slide"):
        if not slides:
            st.title("Mødeskærm", anchor=False)
            st.html('<div class="fokus-message">Ingen dias er valgt. En leder vælger dem på Mødeskærm-siden.</div>')
            return
        keys = [slide.key for slide in slides]
        if PINNED in keys:
            number = keys.index(PINNED)
        else:
            number = (st.session_state.get(INDEX_KEY, -1) + 1) % len(slides)
            st.session_state[INDEX_KEY] = number
        slide = slides[number]
        st.title(slide.title, anchor=False)
        left, right = st.columns([5, 7], gap="large")
        left.html(slide_html(slide) + footer_html(slide, number, len(slides)))
        if slide.bars is not None and not slide.bars.empty:
            right.plotly_chart(
                charts.screen_bars(slide.bars, title=slide.bars_title, percent=slide.percent, band=slide.band,
                                   dark=DARK, height=600 if IS_SCREEN else 420),
                key="moedeskaerm-chart", config={"staticPlot": True, "displayModeBar": False},
            )


if not IS_SCREEN:
    st.title("Mødeskærm", anchor=False)
    st.caption("Det, enhedens mødeskærm viser: kun samlede tal, små tal skjult (under 5). Skærmen skifter dias "
               f"hvert {chosen_settings.slide_seconds}. sekund og henter tallene igen ved hvert skift.")
show_slide()

if not IS_SCREEN:
    st.subheader("Indstillinger for mødeskærmen", anchor=False)
    with db.read_session() as session:
        names = units.visible_units(session, actor)
    scopes: list[int | None] = [None, *names] if actor.unit_ids is None else list(names)
    scope = st.selectbox(
        "Gælder for", scopes, key="moedeskaerm-enhed",
        format_func=lambda unit_id: "Alle enheder uden egne indstillinger" if unit_id is None else names[unit_id],
    ) if len(scopes) > 1 else next(iter(scopes), None)
    st.caption("Gælder mødeskærmen for alle enheder, der ikke har gemt deres egne. En leder gemmer dem for sin "
               "enhed på denne side." if scope is None
               else f"Gælder mødeskærmen for {fmt.literal(names[scope])}; ingen andre enheders skærme.")
    with db.read_session() as session:
        shown = screen.settings_for(session, actor, scope)
    suffix = "alle" if scope is None else scope  # each scope's form starts from its own stored values
    with st.form("moedeskaerm-indstillinger"):
        seconds = st.number_input("Sekunder pr. dias", min_value=3, max_value=60, step=1,
                                  value=shown.slide_seconds, key=f"moedeskaerm-sekunder-{suffix}")
        dark = st.toggle("Mørkt tema", value=shown.dark, key=f"moedeskaerm-moerkt-{suffix}")
        picked = st.multiselect("Dias", list(screen.SLIDES), default=list(shown.chosen),
                                format_func=screen.SLIDES.__getitem__, key=f"moedeskaerm-dias-{suffix}")
        saved = st.form_submit_button("Gem indstillinger")
    if saved:
        try:
            with db.write_session() as session:
                changed = screen.save_settings(session, actor, unit_id=scope, slide_seconds=int(seconds), dark=dark,
                                               chosen=picked)
            st.success("Indstillingerne er gemt. Skærmene bruger dem fra næste dias." if changed
                       else "Ingen ændringer at gemme.")
        except FokusError as error:
            ui.refuse(error)

    st.subheader("Skærmenes adgang", anchor=False)
    with db.read_session() as session:
        screens = screen_access.screen_users(session, actor)
    if not screens:
        st.info("Der er ingen mødeskærme (brugere med rollen skærm) i dine enheder. En administrator opretter dem.")
    else:
        st.dataframe(
            [{"Skærm": s.login, "Enheder": ", ".join(s.units), "Aktiv": "ja" if s.active else "nej",
              "Logget ind nu": s.sessions, "Sidst set": fmt.moment(s.last_seen)} for s in screens],
            hide_index=True, key="moedeskaerm-skaerme",
        )
        by_login = {s.login: s.user_id for s in screens}
        chosen_login = st.selectbox("Skærm", list(by_login), key="moedeskaerm-skaerm")
        revoke_col, renew_col = st.columns(2)
        if revoke_col.button("Tilbagekald", key="moedeskaerm-tilbagekald",
                             help="Afslutter skærmens login med det samme og deaktiverer den."):
            with db.write_session() as session:
                ended = screen_access.revoke(session, actor, user_id=by_login[chosen_login])
            st.success(f"{fmt.literal(chosen_login)} er tilbagekaldt: {ended} login afsluttet, kontoen er deaktiveret.")
        if renew_col.button("Forny", key="moedeskaerm-forny",
                            help="Ny adgangskode (vises én gang), kontoen aktiv igen; gamle login afsluttes."):
            with db.write_session() as session:
                password = screen_access.renew(session, actor, user_id=by_login[chosen_login])
            st.success(f"Ny adgangskode til {fmt.literal(chosen_login)} (vises kun nu): log skærmen ind med den.")
            st.code(password, language=None)
