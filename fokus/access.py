"""Who may open which page: the one table that navigation and every page check use.

The service functions and metric queries check roles and units again themselves; hiding a
menu item is never the only protection.
"""

from __future__ import annotations

from dataclasses import dataclass

from fokus.actor import Actor


@dataclass(frozen=True)
class PageSpec:
    key: str
    path: str
    title: str
    roles: frozenset[str]
    section: str


_ALL_WORKERS = frozenset({"admin", "leader", "staff"})

PAGES: tuple[PageSpec, ...] = (
    PageSpec("overblik", "pages/overblik.py", "Overblik", _ALL_WORKERS, "Tal"),
    PageSpec("udvalgsnotat", "pages/udvalgsnotat.py", "Udvalgsnotat", frozenset({"admin", "leader"}), "Tal"),
    PageSpec("moedeskaerm", "pages/moedeskaerm.py", "Mødeskærm", frozenset({"screen", "leader", "admin"}), "Tal"),
    PageSpec("henvisninger", "pages/henvisninger.py", "Henvisninger", _ALL_WORKERS, "Registrering"),
    PageSpec("forloeb", "pages/forloeb.py", "Forløb", _ALL_WORKERS, "Registrering"),
    PageSpec("ors", "pages/ors.py", "ORS", _ALL_WORKERS, "Registrering"),
    # No role has it in the menu: app.py shows it alone while a tablet is locked to it (fokus.selfreport).
    PageSpec("selvregistrering", "pages/selvregistrering.py", "Selvregistrering", frozenset(), "Registrering"),
    PageSpec("hold", "pages/hold.py", "Hold", _ALL_WORKERS, "Registrering"),
    PageSpec("medarbejdere", "pages/medarbejdere.py", "Medarbejdere", _ALL_WORKERS, "Registrering"),
    PageSpec("maal", "pages/maal.py", "Mål", frozenset({"admin", "leader"}), "Administration"),
    PageSpec("revisionslog", "pages/revisionslog.py", "Revisionslog", frozenset({"admin", "leader"}), "Administration"),
    PageSpec("udveksling", "pages/udveksling.py", "Import og eksport", frozenset({"admin", "leader"}),
             "Administration"),
    PageSpec("brugere", "pages/brugere.py", "Brugere", frozenset({"admin"}), "Administration"),
    PageSpec("sletning", "pages/sletning.py", "Sletning af borgerdata", frozenset({"admin"}), "Administration"),
    PageSpec("indstillinger", "pages/indstillinger.py", "Indstillinger", frozenset({"admin"}), "Administration"),
    PageSpec("sikkerhedskopi", "pages/sikkerhedskopi.py", "Sikkerhedskopi", frozenset({"admin"}), "Administration"),
    PageSpec("om", "pages/om.py", "Om fokus", _ALL_WORKERS, "Om"),
)
BY_KEY = {page.key: page for page in PAGES}


def may_open(actor: Actor, key: str) -> bool:
    return actor.role in BY_KEY[key].roles


def pages_for(actor: Actor) -> list[PageSpec]:
    return [page for page in PAGES if may_open(actor, page.key)]
