"""Pacing keeps a client under a published rate, so a rate-limited source never answers 429."""
from connectors import build_connector
from connectors.pacing import Pacer


def test_a_pacer_spaces_requests_at_the_rate():
    now = [0.0]
    slept = []

    def sleep(d):
        slept.append(d)
        now[0] += d

    pacer = Pacer(10, clock=lambda: now[0], sleep=sleep)
    for _ in range(21):
        pacer.wait()
    # the first goes at once; the next twenty take two seconds at ten per second
    assert abs(now[0] - 2.0) < 1e-9


def test_a_paced_connector_pulls_without_a_single_429(hotline):
    hotline.rate_limit_rps = 10
    hotline.add_orders(90)
    seen = []
    hotline.on_list = lambda q: seen.append(q)
    conn = build_connector("12345-sd", "12345", {"base_url": hotline.base_url, "app_id": "oq-test",
                                                  "app_secret": "s3cret", "page_size": 5, "rate_limit_rps": 9})
    statuses = []
    original = conn.http.session.request

    def recording(*a, **kw):
        resp = original(*a, **kw)
        statuses.append(resp.status_code)
        return resp

    conn.http.session.request = recording
    refs = {r.source_ref for batch in conn.pull(None) for r in batch.records}
    assert len(refs) == 90
    assert 429 not in statuses and len(statuses) > 15
