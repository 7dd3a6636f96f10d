"""The API's description (/docs, /redoc, /openapi.json) lists every route: it is served in demo mode only."""
import pytest
import requests

from settings.config_schema import load_config
from simulators.testing import write_config
from worker import Worker


@pytest.mark.parametrize("demo", [False, True])
def test_the_api_description_is_served_in_demo_mode_only(tmp_path, hotline, sms_provider, demo):
    config = load_config(write_config(tmp_path / "config.yaml", f"sqlite:///{tmp_path}/q.db", hotline, sms_provider))
    config.demo.enabled = demo
    worker = Worker(config)
    worker.prepare()
    worker.start_web()
    try:
        answers = {path: requests.get(worker.web_url + path, timeout=5).status_code
                   for path in ("/docs", "/redoc", "/openapi.json")}
    finally:
        worker.web_server.should_exit = True
        worker.db.dispose()
    assert answers == dict.fromkeys(answers, 200 if demo else 404)
