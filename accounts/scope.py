"""Who sees which tickets: a person sees the tickets of their unit and of the units under it; the bureau,
its consumer-rights section and its complaints command centre see every ticket."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Union

ALL_UNITS: Literal["all"] = "all"
# Departments that work the whole district's queue, recognised by their name in units.yaml.
SEES_ALL_DEPARTMENTS = ("消费者权益保护", "指挥中心")
ROLE_RANK = {"staff": 0, "lead": 1, "admin": 2}

Scope = Union[frozenset, Literal["all"]]


def visible_units(unit_id: str, units) -> Scope:
    """The ids of the units whose tickets a person of `unit_id` may see, or ALL_UNITS."""
    unit = units.get(unit_id)
    if unit is None:
        return frozenset()
    if unit.kind == "bureau" or (unit.kind == "department" and any(k in unit.name for k in SEES_ALL_DEPARTMENTS)):
        return ALL_UNITS
    return subtree(unit_id, units)


def subtree(unit_id: str, units) -> frozenset:
    """A unit and every unit under it: a person's own part of the organisation."""
    seen, todo = set(), [unit_id]
    while todo:
        current = todo.pop()
        if current not in seen:
            seen.add(current)
            todo.extend(child.id for child in units.children_of(current))
    return frozenset(seen)


@dataclass(frozen=True)
class Viewer:
    """The signed-in person as pages see them."""

    login: str
    name: str
    role: str
    unit_id: str
    unit_name: str
    units: Scope
    csrf_token: str = ""

    @property
    def sees_all(self) -> bool:
        return self.units == ALL_UNITS

    def has_role(self, role: str) -> bool:
        """True if the person's role is `role` or above it (staff < lead < admin)."""
        return ROLE_RANK.get(self.role, -1) >= ROLE_RANK[role]

    @property
    def actor(self) -> str:
        return actor_of(self.login)


def can_see(user: Viewer, ticket) -> bool:
    """Whether `user` may see `ticket` (anything with `assigned_unit`); a ticket no unit holds yet is seen only by
    those who see everything."""
    if user.units == ALL_UNITS:
        return True
    return ticket.assigned_unit is not None and ticket.assigned_unit in user.units


def actor_of(login: str) -> str:
    """The actor a person's actions carry in the ticket's history."""
    return f"user:{login}"
