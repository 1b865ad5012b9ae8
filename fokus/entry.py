"""Entry forms that never lose what was typed: the Streamlit side of saving through the services.

Each form's widgets have keys under one prefix. A refused save leaves them exactly as typed and
shows the Danish message under the field it names. A good save shows what was saved beside the
form and empties the form's fields: the keys are forgotten at the start of the next run, before
the widgets are drawn again, so they come back with their defaults (or the row's new values).

An edit form remembers the version of the row it was filled from, for as long as its fields are
on screen: a save after someone else's carries that old version and is refused with the
"ændret af en anden" message, and the fields keep what the user typed. "Hent det gemte" fills
them again from the database, with the new version.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NoReturn

import streamlit as st
from sqlmodel import Session

from fokus import db
from fokus.errors import FokusError

_FLASH = "fokus_entry_flash"  # form key → message of its last good save
_FORGET = "fokus_entry_forget"  # key prefixes to forget at the start of the next run


def begin() -> None:
    """The first call of an entry page after `ui.page_actor`: forget the fields of the last good save."""
    prefixes = tuple(st.session_state.pop(_FORGET, ()))
    if prefixes:
        for key in [k for k in st.session_state if isinstance(k, str) and k.startswith(prefixes)]:
            del st.session_state[key]


def show_saved(form: str) -> None:
    """Where the form is: the message of its last good save, once."""
    message = st.session_state.get(_FLASH, {}).pop(form, None)
    if message:
        st.success(message)


def saved(form: str, message: str, *forget: str) -> NoReturn:
    """After a good save: say what was saved, forget the fields under the `forget` prefixes, run again."""
    st.session_state.setdefault(_FLASH, {})[form] = message
    st.session_state[_FORGET] = (*st.session_state.get(_FORGET, ()), *forget)
    st.rerun()


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
        (st if place is None else place).error(error.message)  # type: ignore[attr-defined]


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
