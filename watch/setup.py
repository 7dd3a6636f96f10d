"""What the watch jobs need, built from the configuration: the alias list (and the early-warning rules)."""
from __future__ import annotations

from watch.aliases import DEFAULT_FILE as DEFAULT_BUSINESSES
from watch.aliases import Aliases


def aliases_from(config) -> Aliases:
    """businesses.yaml as configured (`watch.businesses_file`), else the one onequeue ships; ConfigError if wrong."""
    name = config.watch.businesses_file
    return Aliases.from_file(config.path(name) if name else DEFAULT_BUSINESSES)
