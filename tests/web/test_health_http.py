"""The worker serves its health over HTTP with the same figures as the command line."""
import requests
from sqlalchemy import select

from settings.config_schema import load_config
from simulators.testing import write_config
from worker import Worker


def test_health_over_http_counts_the_queue(tmp_path, db_url, hotline, sms_provider):
    hotline.add_orders(3)
    worker = Worker(load_config(write_config(tmp_path / "config.yaml", db_url, hotline, sms_provider)))
    worker.run_once()
    worker.start_web()
    try:
        body = requests.get(worker.web_url + "/health", timeout=5).json()
    finally:
        worker.web_server.should_exit = True
    assert sum(body["tickets"].values()) == 3
    assert body["channels"][0]["name"] == "12345-shunde" and body["channels"][0]["error_count"] == 0
