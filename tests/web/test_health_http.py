"""The worker serves its health over HTTP: the same figures as the command line for operators (the health
token, or a signed-in administrator); counts only for anyone else."""
import re

import requests

from settings.config_schema import load_config
from simulators.testing import write_config
from tests.web.conftest import PASSWORD
from worker import Worker

TOKEN = "health-token-for-monitoring-5d2c"


def test_health_over_http_counts_the_queue(tmp_path, db_url, hotline, sms_provider):
    hotline.add_orders(3)
    worker = Worker(load_config(write_config(tmp_path / "config.yaml", db_url, hotline, sms_provider)))
    worker.config.web.health_token = TOKEN
    worker.run_once()
    worker.start_web()
    try:
        body = requests.get(worker.web_url + "/health", timeout=5, headers={"Authorization": f"Bearer {TOKEN}"}).json()
    finally:
        worker.web_server.should_exit = True
    assert sum(body["tickets"].values()) == 3
    assert body["channels"][0]["name"] == "12345-shunde" and body["channels"][0]["error_count"] == 0


def _session_cookie(site, login: str) -> str:
    form = requests.get(site.url + "/login", timeout=10)
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
    answer = requests.post(site.url + "/login", data={"username": login, "password": PASSWORD, "csrf_token": token},
                           headers={"Cookie": f"oq_login_csrf={form.cookies.get('oq_login_csrf')}"},
                           allow_redirects=False, timeout=10)
    assert answer.status_code == 303
    return "oq_session=" + answer.cookies["oq_session"]


def test_anonymous_callers_get_counts_only_operators_and_admins_everything(site, hotline, make_user):
    # given a worker with a health token, a channel that failed, and tickets in the queue
    hotline.add_orders(2)
    site.worker.config.web.health_token = TOKEN
    site.worker.run_once()
    hotline.go_down()
    site.worker.run_once()
    hotline.come_up()
    admin, staff = make_user("admin1", role="admin"), make_user("staff1", role="staff")

    def health(**headers) -> dict:
        answer = requests.get(site.url + "/health", headers=headers, timeout=5)
        assert answer.status_code == 200
        return answer.json()

    # then anyone sees the counts, not the channels, their errors or the files
    for anonymous in (health(), health(Authorization="Bearer wrong-token"), health(Authorization=TOKEN),
                      health(Cookie=_session_cookie(site, staff))):
        assert sum(anonymous["tickets"].values()) == 2 and anonymous["channels_failing"] == 1
        assert set(anonymous) == {"tickets", "sms", "outbox", "channels_failing", "more"}
    # and an operator with the token, or a signed-in administrator, sees everything
    for operator in (health(Authorization=f"Bearer {TOKEN}"), health(Cookie=_session_cookie(site, admin))):
        assert sum(operator["tickets"].values()) == 2 and operator["channels"][0]["error_count"] == 1
        assert operator["channels"][0]["last_error"] and "rules" in operator
