"""Who is acting: passed explicitly into every service function and metric query."""

from __future__ import annotations

from dataclasses import dataclass

from fokus.errors import PermissionDenied

ROLES = ("admin", "leader", "staff", "screen")
WRITER_ROLES = frozenset({"admin", "leader", "staff"})


@dataclass(frozen=True)
class Actor:
    login: str
    role: str
    # The units this actor may see; None means every unit (the admin and the command line).
    unit_ids: frozenset[int] | None
    user_id: int | None = None

    def sees_unit(self, unit_id: int) -> bool:
        return self.unit_ids is None or unit_id in self.unit_ids

    def require_unit(self, unit_id: int) -> None:
        if not self.sees_unit(unit_id):
            raise PermissionDenied("Du har ikke adgang til denne enhed.", actor=self, what=f"enhed {unit_id}")

    def require_role(self, *roles: str, what: str) -> None:
        if self.role not in roles:
            raise PermissionDenied(f"Din rolle giver ikke adgang til {what}.", actor=self, what=what)

    def require_writer(self, unit_id: int) -> None:
        if self.role not in WRITER_ROLES:
            raise PermissionDenied("Din rolle må ikke ændre data.", actor=self, what=f"ændring i enhed {unit_id}")
        self.require_unit(unit_id)


# The command line acts as this: its user has shell access to the database anyway.
SYSTEM = Actor(login="system", role="admin", unit_ids=None)
