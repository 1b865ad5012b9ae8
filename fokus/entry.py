"""Entry forms that never lose what was typed: the Streamlit side of saving through the services.

Each form's widgets have keys under one prefix, and their starting values are given with `fill`
(one key: `start`), through the session state, never with `value=`/`index=`/`default=`. A value
placed in the session state before a widget is drawn is sent to the browser; a `value=` default
is not once the widget exists there: a form emptied by forgetting its keys goes on showing (and
sends again with the next submit) what was typed.

A refused save leaves the fields exactly as typed and shows the Danish message under the field
it names. A good save shows what was saved beside the form and empties the form: the keys under
the `forget` prefixes are dropped at the start of the next run (`begin`), so `fill`/`start` set
them again to their starting values (or the row's new values) before the widgets are drawn.

An edit form remembers the version of the row it was filled from, for as long as its fields are
on screen: a save after someone else's carries that old version and is refused with the
"ændret af en anden" message, and the fields keep what the user typed. "Hent det gemte" fills
them again from the database, with the new version.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from typing import NoReturn

import streamlit as st
from sqlmodel import Session

from fokus import db, fmt
from fokus.errors import FokusError

_FLASH = "fokus_entry_flash"  # form key → message of its last good save
_FORGET = "fokus_entry_forget"  # key prefixes to forget at the start of the next run


def begin() -> None:
    """The first call of an entry page after `ui.page_actor`: forget the fields of the last good save.

    Their keys are dropped here, so `fill`/`start` set them again before the widgets are drawn."""
    prefixes = tuple(st.session_state.pop(_FORGET, ()))
    if prefixes:
        for key in [k for k in st.session_state if isinstance(k, str) and k.startswith(prefixes)]:
            del st.session_state[key]


def has_saved(form: str) -> bool:
    """Whether the form's last good save has a message still to show (open the expander it is in)."""
    return form in st.session_state.get(_FLASH, {})


def show_saved(form: str) -> None:
    """Where the form is: the message of its last good save, once."""
    message = st.session_state.get(_FLASH, {}).pop(form, None)
    if message:
        st.success(fmt.plain(message))  # it names what was typed: shown as text, never as Markdown


def saved(form: str, message: str, *forget: str) -> NoReturn:
    """After a good save: say what was saved, forget the fields under the `forget` prefixes, run again."""
    st.session_state.setdefault(_FLASH, {})[form] = message
    st.session_state[_FORGET] = (*st.session_state.get(_FORGET, ()), *forget)
    st.rerun()


def start(key: str, value: object) -> None:
    """Give the widget `key` its starting value, unless it already has one (typed, or kept from a refusal).

    Call it before the widget is drawn (after `version_seen` for an edit form, which must see whether
    the fields were still on screen), and draw the widget without `value=`/`index=`/`default=`."""
    st.session_state.setdefault(key, value)


def fill(prefix: str, values: Mapping[str, object]) -> None:
    """`start` for each widget `prefix + name` of a form."""
    for name, value in values.items():
        start(f"{prefix}{name}", value)


def drop_missing(key: str, options: object) -> None:
    """Keep only the still offered choices in a multiselect's kept value (others were saved meanwhile)."""
    kept = st.session_state.get(key)
    if isinstance(kept, list) and any(choice not in options for choice in kept):  # type: ignore[operator]
        st.session_state[key] = [choice for choice in kept if choice in options]  # type: ignore[operator]


def keep_choice(key: str, options: object) -> None:
    """Keep a selectbox's choice, and show it with its label as it reads now.

    A selectbox remembers its choice by the label it showed; when the label changes (a group
    renamed, a colleague's caseload moved) the browser would show the old label, or the choice
    would fall back to the first option. Sending the choice again before the widget is drawn
    avoids both. Only for selectboxes outside forms, whose choice the server always knows.
    """
    chosen = st.session_state.get(key)
    if chosen is not None and chosen in options:  # type: ignore[operator]
        st.session_state[key] = chosen


def version_seen(prefix: str, current: int) -> int:
    """The version of the row the fields under `prefix` were filled from.

    Call it before drawing the fields. While they are on screen the version stays the one
    first seen; once they are gone (another row chosen, a good save, "Hent det gemte"),
    the next call takes the row's current version again.
    """
    key = f"{prefix}version"
    fields_on_screen = any(
        isinstance(k, str) and k.startswith(prefix) and k != key for k in st.session_state
    )
    if not fields_on_screen or key not in st.session_state:
        st.session_state[key] = current
    return int(st.session_state[key])


def reload_button(prefix: str, key: str) -> None:
    """A button that throws the fields under `prefix` away and fills them from the database again."""
    if st.button("Hent det gemte (kasserer dine indtastninger)", key=key):
        st.session_state[_FORGET] = (*st.session_state.get(_FORGET, ()), prefix)
        st.rerun()


class Messages:
    """Places under a form's fields where a refusal is shown: beside the field it names."""

    def __init__(self) -> None:
        self._places: dict[str | None, object] = {}

    def under(self, *fields: str) -> None:
        """A place for the messages about `fields`, right where this is called."""
        place = st.empty()
        for field in fields:
            self._places[field] = place

    def general(self) -> None:
        """The place for messages that name no field on the form (call it near the button)."""
        self._places[None] = st.empty()

    def refuse(self, error: FokusError) -> None:
        place = self._places.get(error.field, self._places.get(None))
        # The message may quote what was typed (a reference, a name): shown as text, never as Markdown.
        (st if place is None else place).error(fmt.plain(error.message))  # type: ignore[attr-defined]


def save(write: Callable[[Session], str], messages: Messages, *, form: str, forget: tuple[str, ...] = ()) -> None:
    """Run `write` in one write transaction; it returns what to tell the user.

    A refusal is shown under its field and nothing is written; on success the message is shown
    beside the form after the page runs again, with the fields under `forget` emptied.
    """
    try:
        with db.write_session() as session:
            message = write(session)
    except FokusError as error:
        messages.refuse(error)
    else:
        saved(form, message, *forget)


def choose_from_link(param: str, key: str, options: Collection[int]) -> None:
    """Choose the row a link named (`?forloeb=12` from Overblik's "Kræver handling") in the selectbox `key`.

    The parameter is taken out of the address at once, so it chooses once and a later choice stands.
    An id that is not among the options (ended meanwhile, another unit) chooses nothing.
    """
    raw = st.query_params.get(param)
    if raw is None:
        return
    del st.query_params[param]
    chosen = int(raw) if raw.isdigit() else None
    if chosen in options:
        st.session_state[key] = chosen
