"""The demo: the stand-ins named in `demo:` of config.yaml, started on loopback with some records each and more
arriving on a timer, so the default configuration shows tickets flowing with no outside system."""
from __future__ import annotations

import structlog

log = structlog.get_logger("demo")


def start_demo(config) -> list:
    """Start the stand-ins `config.demo` names (none unless `demo.enabled`); the caller stops each one."""
    demo = config.demo
    started: list = []
    if not demo.enabled:
        return started
    try:
        if demo.workorders_12345:
            from simulators.workorders_12345 import WorkOrder12345

            d = demo.workorders_12345
            sim = WorkOrder12345(app_id=d.app_id, app_secret=d.app_secret, port=d.port)
            sim.start()
            started.append(sim)
            sim.add_orders(10)
            sim.generate_every(d.new_orders_every_seconds, d.orders_per_round)
            log.info("demo_stand_in_started", stand_in="12345", url=sim.base_url)
        if demo.platform_12315:
            from simulators.platform_12315 import Platform12315

            d = demo.platform_12315
            sim = Platform12315(d.client_id, d.client_secret, port=d.port)
            sim.start()
            started.append(sim)
            sim.add_cases(6)
            sim.generate_every(d.new_cases_every_seconds, d.cases_per_round)
            log.info("demo_stand_in_started", stand_in="12315", url=sim.base_url)
        if demo.filedrop_8180:
            from simulators.hotline_8180 import Hotline8180

            d = demo.filedrop_8180
            folders = next(ch.settings for ch in config.channels if ch.name == d.channel)
            drop = Hotline8180(folders["inbox"], folders["outbox"]).start()
            started.append(drop)
            drop.add_calls(4)
            drop.run_every(d.new_calls_every_seconds, d.calls_per_round)
            log.info("demo_stand_in_started", stand_in="8180", inbox=folders["inbox"])
        if demo.mall_complaints:
            from simulators.mall_complaints import MallComplaints

            d = demo.mall_complaints
            sim = MallComplaints("oauth", client_id=d.app_id, client_secret=d.app_secret, port=d.port)
            sim.start()
            started.append(sim)
            sim.add_complaints(5)
            sim.generate_every(d.new_orders_every_seconds, d.orders_per_round)
            log.info("demo_stand_in_started", stand_in="mall_complaints", url=sim.base_url)
        if demo.twilio:
            from simulators.twilio_api import TwilioStandIn

            tw = TwilioStandIn(account_sid=config.sms.account_sid, auth_token=config.sms.auth_token,
                               port=demo.twilio.port)
            tw.start()
            started.append(tw)
            log.info("demo_stand_in_started", stand_in="twilio", url=tw.base_url)
    except BaseException:   # a port taken: stop the ones already listening before giving up
        stop_demo(started)
        raise
    return started


def stop_demo(stand_ins: list) -> None:
    for sim in reversed(stand_ins):
        sim.stop()
