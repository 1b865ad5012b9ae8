"""Starting values of a form's widgets, given through the session state so the browser shows them.

`fokus.entry` empties a form after a good save (and "Hent det gemte" refills it) by forgetting
the widgets' keys. A widget whose key is forgotten comes back with its `value=` default on the
server, but the browser goes on showing what was typed — and sends it again with the next
submit. A value placed in `st.session_state` before the widget is drawn is sent to the browser
as well. So forms that are emptied or refilled pass no `value=`/`index=`/`default=` to their
widgets and call `fill` with the starting values first (after `entry.version_seen`, which must
see whether the fields were still on screen).
"""

from __future__ import annotations

from collections.abc import Mapping

import streamlit as st


def fill(prefix: str, values: Mapping[str, object]) -> None:
    """Give each widget `prefix + name` its starting value, unless it already has one (typed or kept)."""
    for name, value in values.items():
        st.session_state.setdefault(f"{prefix}{name}", value)


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
