"""`python -m simulators` runs a stand-in until interrupted and says where it is."""
from __future__ import annotations

import re
import signal
import subprocess
import sys

import pytest
import requests

from notify.twilio_client import make_twilio_client


@pytest.fixture
def run():
    started = []

    def start(*args: str) -> tuple[subprocess.Popen, str]:
        proc = subprocess.Popen([sys.executable, "-m", "simulators", *args], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        started.append(proc)
        first = proc.stdout.readline()
        match = re.search(r"http://127\.0\.0\.1:\d+", first)
        assert match, first + proc.stderr.read()
        return proc, match.group(0)

    yield start
    for proc in started:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_the_12345_stand_in_runs_until_interrupted(run, tmp_path):
    state = tmp_path / "state.json"
    proc, url = run("12345", "--port", "0", "--orders", "3", "--state-file", str(state))
    token = requests.post(url + "/api/v1/auth/token",
                          json={"app_id": "onequeue-demo", "app_secret": "demo-secret"}).json()["token"]
    listed = requests.get(url + "/api/v1/workorders", headers={"Authorization": f"Bearer {token}"}).json()
    assert listed["total"] == 3

    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=10) == 0
    assert state.exists()


def test_the_twilio_stand_in_takes_the_given_credentials(run):
    sid, token = "AC" + "1" * 32, "cli-token"
    proc, url = run("twilio", "--port", "0", "--account-sid", sid, "--auth-token", token)
    client = make_twilio_client(sid, token, base_url=url)
    assert client.messages.create(to="+8613800138000", from_="+8610691234512", body="hi").status == "queued"

    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=10) == 0
