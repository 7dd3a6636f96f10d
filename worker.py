"""The composition root: reads config.yaml, builds the parts, and runs the scheduled jobs.

`python worker.py` does the same as `onequeue run`.
"""
from __future__ import annotations

import os
import signal
import socket
import sys
import threading
import uuid
from typing import Callable, Optional

import structlog
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import func, select

from connectors import Connector, build_enabled
from connectors.poll import poll_channel
from dispatch.job import Dispatched, dispatch_new
from dispatch.reload import RulesReloader
from notify import SmsPolicy, SmsSender, dispatch_notice, plan_many, plan_recall_sms
from notify.models import SmsMessage
from notify.twilio_client import make_twilio_client
from settings.config_schema import AppConfig, load_config
from settings.logging_setup import configure_logging
from sla import Deadlines, follow_ticket_events, recompute_stale, scan_due, start_clocks_many
from tickets import Database, Ticket
from tickets.migrate import upgrade
from tickets.duplicates import DuplicatePolicy, release as release_duplicates
from tickets.store import counts_by_status
from writeback import DeliveryPolicy, OutboxItem, deliver_due, reconcile

log = structlog.get_logger("worker")


class Worker:
    """One worker process: every job here is safe to run in several processes on one PostgreSQL database."""

    def __init__(self, config: AppConfig, owner: Optional[str] = None):
        self.config = config
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.db = Database(config.resolved_database_url())
        self.rules = RulesReloader(config.path(config.units_file), config.path(config.rules_file))
        self.dispatcher = self.rules.dispatcher
        self._rules_lock = threading.Lock()
        self.connectors = build_enabled(config.channels)
        sms = config.sms
        self.sms = SmsSender(
            self.db,
            # A send must end well inside its claim, or another worker could take the row up mid-flight.
            make_twilio_client(sms.account_sid, sms.auth_token, base_url=sms.base_url or None,
                               timeout=min(10.0, config.jobs.claim_seconds / 2)),
            SmsPolicy(from_number=sms.from_number, status_callback=sms.status_callback_url,
                      validity_seconds=sms.validity_seconds, max_attempts=sms.max_attempts,
                      backoff_seconds=sms.backoff_seconds, claim_seconds=config.jobs.claim_seconds,
                      rate_limit_rps=sms.rate_limit_rps),
            self.owner,
            on_gave_up=self._on_sms_gave_up,
        )
        wb = config.writeback
        self.delivery = DeliveryPolicy(max_attempts=wb.max_attempts, backoff_seconds=wb.backoff_seconds,
                                       max_backoff_seconds=wb.max_backoff_seconds,
                                       claim_seconds=config.jobs.claim_seconds)
        # Deadlines follow the units of the running dispatcher (reloaded when units.yaml changes).
        self.deadlines = Deadlines(config.sla, units=lambda: self.dispatcher.units)
        follow_ticket_events()
        self.stand_ins: list = []
        self.scheduler: Optional[BackgroundScheduler] = None
        # Set when run() is told to stop; a job that works through a long list looks at it between items.
        self.stopping = threading.Event()
        self.web_server = None
        self.web_url: Optional[str] = None

    # --- the jobs ------------------------------------------------------------------------------

    def poll(self, name: str):
        return poll_channel(self.db, self.connectors[name], self.owner, hooks=[self._on_ingested],
                            lease_seconds=self.config.jobs.claim_seconds, stopping=self.stopping.is_set)

    def _on_ingested(self, session, result) -> None:
        for ticket_id in result.recalled:
            ticket = session.get(Ticket, ticket_id)
            unit = self.dispatcher.units.get(ticket.assigned_unit) if ticket.assigned_unit else None
            plan_recall_sms(session, ticket, unit, self.config.sms.templates.recalled)
        for ticket_id in result.withdrawn:  # the matter lives on in the other channels it came in by
            release_duplicates(session, session.get(Ticket, ticket_id), "connector")

    def dispatch(self) -> int:
        self.reload_rules()
        dup = self.config.duplicates
        return dispatch_new(self.db, self.dispatcher, hooks=[self._on_dispatched],
                            duplicates=DuplicatePolicy(dup.window_days, dup.min_similarity) if dup.enabled else None)

    def reload_rules(self) -> None:
        """Swap in a changed units or rules file that loads; one that does not is refused and the running rules stay."""
        with self._rules_lock:   # one reload at a time, and the newest dispatcher is the one kept
            fresh = self.rules.reload_if_changed(self.db, self.owner)
            if fresh is not None:
                self.dispatcher = fresh   # a batch already running keeps the dispatcher it started with

    def _on_sms_gave_up(self, session, msg, error_code, error) -> None:
        from notify.delivery import give_up

        give_up(session, msg, error_code, error, self.dispatcher.units)

    def _on_dispatched(self, session, dispatched: list[Dispatched]) -> None:
        template = self.config.sms.templates.dispatched
        plan_many(session, [dispatch_notice(d.ticket, d.unit, template, d.event_id) for d in dispatched])
        if self.config.sla.enabled:
            start_clocks_many(session, self.deadlines, [(d.ticket, d.unit) for d in dispatched])

    def scan_deadlines(self):
        if self.config.sla.enabled:
            return scan_due(self.db, self.deadlines)

    def send_sms(self):
        return self.sms.send_due(stopping=self.stopping.is_set)

    def deliver(self):
        return deliver_due(self.db, self.connectors, self.owner, self.delivery, stopping=self.stopping.is_set)

    def reconcile(self):
        wb = self.config.writeback
        return reconcile(self.db, self.connectors, hours=wb.reconcile_hours, requeue=wb.reconcile_requeue)

    def jobs(self) -> list[tuple[str, Callable, float]]:
        jobs: list[tuple[str, Callable, float]] = []
        for ch in self.config.channels:
            # Push kinds (walk-in, web intake, Open311) have nothing to poll.
            if ch.enabled and type(self.connectors[ch.name]).pull is not Connector.pull:
                jobs.append((f"poll:{ch.name}", lambda n=ch.name: self.poll(n), ch.poll_seconds))
        j = self.config.jobs
        jobs += [("dispatch", self.dispatch, j.dispatch_seconds),
                 ("sla", self.scan_deadlines, self.config.sla.scan_seconds), ("sms", self.send_sms, j.sms_seconds),
                 ("outbox", self.deliver, j.outbox_seconds)]
        if self.config.writeback.reconcile_minutes:
            jobs.append(("reconcile", self.reconcile, self.config.writeback.reconcile_minutes * 60))
        return jobs

    # --- running ------------------------------------------------------------------------------

    def prepare(self) -> None:
        """Bring the schema up to date before any job runs."""
        upgrade(self.db.engine)
        if self.config.sla.enabled:   # deadlines computed under another calendar (2027 added, hours changed)
            recompute_stale(self.db, self.deadlines)

    def run_once(self) -> None:
        """Run each job once, in the order a ticket travels, and return."""
        self.prepare()
        for name, job, _ in self.jobs():
            self._guarded(name, job)

    def _guarded(self, name: str, job: Callable) -> None:
        try:
            job()
        except Exception:  # a job must never take the worker down; the next run tries again
            log.exception("job_failed", job=name)

    def start_demo(self) -> None:
        """Start the stand-ins named in `demo:` on loopback, so the default configuration shows tickets flowing."""
        demo = self.config.demo
        if not demo.enabled:
            return
        from simulators import TwilioStandIn, WorkOrder12345

        if demo.workorders_12345:
            d = demo.workorders_12345
            sim = WorkOrder12345(app_id=d.app_id, app_secret=d.app_secret, port=d.port)
            sim.start()
            sim.add_orders(10)
            sim.generate_every(d.new_orders_every_seconds, d.orders_per_round)
            self.stand_ins.append(sim)
            log.info("demo_stand_in_started", stand_in="12345", url=sim.base_url)
        if demo.platform_12315:
            from simulators.platform_12315 import Platform12315

            d = demo.platform_12315
            sim = Platform12315(d.client_id, d.client_secret, port=d.port)
            sim.start()
            sim.add_cases(6)
            sim.generate_every(d.new_cases_every_seconds, d.cases_per_round)
            self.stand_ins.append(sim)
            log.info("demo_stand_in_started", stand_in="12315", url=sim.base_url)
        if demo.filedrop_8180:
            from simulators.hotline_8180 import Hotline8180

            d = demo.filedrop_8180
            folders = next(ch.settings for ch in self.config.channels if ch.name == d.channel)
            drop = Hotline8180(folders["inbox"], folders["outbox"]).start()
            drop.add_calls(4)
            drop.run_every(d.new_calls_every_seconds, d.calls_per_round)
            self.stand_ins.append(drop)
            log.info("demo_stand_in_started", stand_in="8180", inbox=folders["inbox"])
        if demo.mall_complaints:
            from simulators.mall_complaints import MallComplaints

            d = demo.mall_complaints
            sim = MallComplaints("oauth", client_id=d.app_id, client_secret=d.app_secret, port=d.port)
            sim.start()
            sim.add_complaints(5)
            sim.generate_every(d.new_orders_every_seconds, d.orders_per_round)
            self.stand_ins.append(sim)
            log.info("demo_stand_in_started", stand_in="mall_complaints", url=sim.base_url)
        if demo.twilio:
            tw = TwilioStandIn(account_sid=self.config.sms.account_sid, auth_token=self.config.sms.auth_token,
                               port=demo.twilio.port)
            tw.start()
            self.stand_ins.append(tw)
            log.info("demo_stand_in_started", stand_in="twilio", url=tw.base_url)

    def web_context(self):
        from web import WebContext

        return WebContext(self.config, self.db, parts={"dispatcher": self.dispatcher, "worker": self})

    def start_web(self) -> None:
        """Serve the webhooks (and later the pages) from this process, if `web.enabled`."""
        if not self.config.web.enabled:
            return
        from web import create_app, serve_in_thread
        from web.app import bound_port

        web = self.config.web
        self.web_server, _ = serve_in_thread(create_app(self.web_context()), web.host, web.port)
        self.web_url = web.base_url(bound_port(self.web_server))
        if not self.config.sms.status_callback_url:  # delivery reports come back to this service
            from web.sms_routes import STATUS_PATH

            self.sms.policy.status_callback = self.web_url + STATUS_PATH
        log.info("web_started", url=self.web_url)

    def status_line(self) -> str:
        with self.db.transaction() as s:
            counts = counts_by_status(s)
            sms = dict(s.execute(select(SmsMessage.status, func.count()).group_by(SmsMessage.status)).all())
            outbox = dict(s.execute(select(OutboxItem.status, func.count()).group_by(OutboxItem.status)).all())
        parts = [f"tickets {sum(counts.values())}"] + [f"{k} {v}" for k, v in sorted(counts.items())]
        out = sms.get("sent", 0) + sms.get("delivered", 0)
        parts.append(f"sms sent {out} (delivered {sms.get('delivered', 0)}) pending {sms.get('pending', 0)} "
                     f"failed {sms.get('failed', 0) + sms.get('undelivered', 0)}")
        parts.append(f"write-backs done {outbox.get('delivered', 0)} pending {outbox.get('pending', 0)} "
                     f"dead {outbox.get('dead', 0)}")
        return " | ".join(parts)

    def run(self, status: bool = True) -> None:
        """Run the jobs on their intervals until SIGINT or SIGTERM."""
        self.prepare()
        self.start_demo()
        self.start_web()
        stop = self.stopping
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
        self.scheduler = BackgroundScheduler(timezone="Asia/Shanghai")
        for name, job, seconds in self.jobs():
            # Jobs run at once on start, but reconciliation, which re-reads whole windows of a source,
            # waits for its first interval.
            first = {} if name == "reconcile" else {"next_run_time": _now()}
            self.scheduler.add_job(self._guarded, "interval", args=(name, job), seconds=seconds, id=name,
                                   max_instances=1, coalesce=True, **first)
        self.scheduler.start()
        log.info("worker_started", owner=self.owner, database=self.db.dialect, channels=list(self.connectors))
        tty = sys.stdout.isatty()
        try:
            while not stop.wait(2 if tty else 10):
                if status:
                    line = self.status_line()
                    print(("\r" + line[:200].ljust(120)) if tty else line, end="" if tty else "\n", flush=True)
        finally:
            if tty:
                print()
            stop.set()   # however the loop ended, running jobs wind down rather than finish their lists
            self.scheduler.shutdown(wait=True)
            if self.web_server is not None:
                self.web_server.should_exit = True
            for sim in self.stand_ins:
                sim.stop()
            self.db.dispose()
            log.info("worker_stopped", owner=self.owner)


def _now():
    from datetime import datetime, timezone

    return datetime.now(timezone.utc)


def main(config_path: Optional[str] = None, once: bool = False) -> int:
    config = load_config(config_path)
    configure_logging(config.log_level)
    worker = Worker(config)
    if once:
        worker.run_once()
        print(worker.status_line())
    else:
        worker.run()
    return 0


if __name__ == "__main__":
    from cli.main import main as cli_main

    sys.exit(cli_main(["run", *sys.argv[1:]]))
