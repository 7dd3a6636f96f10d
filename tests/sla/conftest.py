"""Fixtures of the deadline tests: the default units and deadlines (helpers.py has the rest)."""
from __future__ import annotations

import pytest

from dispatch import UnitDirectory
from simulators.testing import ROOT
from tests.sla.helpers import make_deadlines


@pytest.fixture(scope="session")
def units() -> UnitDirectory:
    return UnitDirectory.from_file(ROOT / "units.yaml")


@pytest.fixture
def deadlines(units):
    return make_deadlines(units)
