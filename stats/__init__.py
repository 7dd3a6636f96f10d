"""Statistics: a rollup per China-Standard-Time day and dimension kept current from the tickets' history, and the
figures read from it (counts by any dimension or two, handling per unit, industries, hot words)."""
from stats.models import DIMENSIONS, MEASURES, StatsCell, StatsFact, StatsTermCell
from stats.rollup import Deciders, catch_up, rebuild, refresh

__all__ = ["DIMENSIONS", "MEASURES", "Deciders", "StatsCell", "StatsFact", "StatsTermCell", "catch_up", "rebuild",
           "refresh"]
