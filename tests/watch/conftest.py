"""A worker of the default configuration, prepared but not started, for the watch part's jobs to be run by
hand; no 12345 stand-in (nothing to poll), the Twilio stand-in for the alerts' SMS. A test module that needs
other channels or rules gives its own `config`."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from settings.config_schema import load_config
from simulators.testing import write_config
from worker import Worker


@pytest.fixture
def config(tmp_path, db, db_url, sms_provider):
    nowhere = SimpleNamespace(base_url="http://127.0.0.1:9")
    return write_config(tmp_path / "config.yaml", db_url, nowhere, sms_provider)


@pytest.fixture
def worker(config):
    w = Worker(load_config(config))
    w.prepare()
    yield w
    w.db.dispose()
