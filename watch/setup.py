"""What the watch jobs need, built from the configuration: the alias list (and the early-warning rules)."""
from __future__ import annotations

from watch.alert_rules import DEFAULT_FILE as DEFAULT_ALERTS
from watch.alert_rules import AlertsFile, load_alert_rules
from watch.aliases import DEFAULT_FILE as DEFAULT_BUSINESSES
from watch.aliases import Aliases
from watch.index_rules import DEFAULT_FILE as DEFAULT_INDEX
from watch.index_rules import IndexFile, load_index_rules


def aliases_from(config) -> Aliases:
    """businesses.yaml as configured (`watch.businesses_file`), else the one onequeue ships; ConfigError if wrong."""
    name = config.watch.businesses_file
    return Aliases.from_file(config.path(name) if name else DEFAULT_BUSINESSES)


def alert_rules_from(config, units=None) -> AlertsFile:
    """alerts.yaml as configured (`watch.alerts_file`), checked against units.yaml when given; ConfigError if wrong."""
    name = config.watch.alerts_file
    return load_alert_rules(config.path(name) if name else DEFAULT_ALERTS, units)


def index_rules_from(config) -> IndexFile:
    """index.yaml as configured (`watch.index_file`), else the one onequeue ships; ConfigError if wrong."""
    name = config.watch.index_file
    return load_index_rules(config.path(name) if name else DEFAULT_INDEX)
