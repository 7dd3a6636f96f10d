"""The composition root: reads config.yaml, builds the parts, and schedules the jobs.

`python worker.py` does the same as `onequeue run`.
"""
from __future__ import annotations

import os
import socket
import sys
import threading
import time
import uuid
from datetime import datetime, timezone
from typing import Callable, Optional

import structlog
from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.background import BackgroundScheduler

from connectors import Connector, build_enabled
from connectors.poll import poll_channel
from dispatch.job import Dispatched, dispatch_new
from dispatch.reload import RunningRules
from notify import SmsPolicy, SmsSender, dispatch_notice, plan_many
from notify.complainant import from_config as complainant_loop, keep_in_loop
from notify.delivery import give_up
from notify.links import follow_ticket_moves, use_links
from notify.links import settings_from as links_from
from notify.twilio_client import make_twilio_client
from settings.config_schema import AppConfig
from settings.logging_setup import configure_logging
from simulators.demo import start_demo, stop_demo
from stats import catch_up
from stats.labels import Labels
from stats.setup import deciders_from, districts_from, industries_from
from sla import Deadlines, follow_ticket_events, recompute_stale, scan_due, start_clocks_many
from tickets import CHINA_TZ, Database, wake
from tickets.dates import use_window
from tickets.duplicates import DuplicatePolicy
from tickets.migrate import upgrade
from tickets.withdrawal import withdrawn_at_source
from watch import registry as businesses
from watch import index, surge
from watch.alerts import Warnings
from watch.setup import alert_rules_from, aliases_from, index_rules_from
from writeback import DeliveryPolicy, deliver_due, reconcile

log = structlog.get_logger("worker")
POLL_BATCHES = 100  # pages one poll stores at most before it lets the other jobs' turn come
WATCH_LOOK_BACK_SECONDS = 30  # the business registry's look at the last two minutes again, at most this often


def bootstrap(config: AppConfig) -> None:
    """What every entry point does first, whatever the command: logging as configured, and the listeners."""
    configure_logging(config.log_level)
    use_window(config.dates.window())  # every source's dates are checked against config.yaml's window
    use_links(links_from(config))      # where the SMS's station links point, and how long they last
    install_listeners()


def install_listeners() -> None:
    """A status change, made by any process, makes the ticket's deadline clocks due for the scan, and revokes the
    station links of a ticket that leaves their unit (once per process)."""
    follow_ticket_events()
    follow_ticket_moves()


class Worker:
    """One worker process: every job here is safe to run in several processes on one PostgreSQL database.
    `start()` returns once the jobs run; `stop()` winds them down and returns when they have; `join()` waits."""

    def __init__(self, config: AppConfig, owner: Optional[str] = None):
        self.config, j, sms, wb = config, config.jobs, config.sms, config.writeback
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.db = Database(config.resolved_database_url())
        # Complainants' progress links lead to the public URL, else to where this worker serves its pages.
        keep_in_loop(self.db, complainant_loop(config, lambda: (config.web.public_url or self.web_url
                                                                 or config.web.base_url())))
        self.rules = RunningRules(config.path(config.units_file), config.path(config.rules_file), self.db, self.owner)
        self.connectors = build_enabled(config.channels)
        self.sms = SmsSender(   # a send must end well inside its claim, or another worker could take the row
            self.db, make_twilio_client(sms.account_sid, sms.auth_token, base_url=sms.base_url or None,
                                        timeout=min(10.0, j.claim_seconds / 2)),
            SmsPolicy(from_number=sms.from_number, status_callback=sms.status_callback_url,
                      validity_seconds=sms.validity_seconds, max_attempts=sms.max_attempts,
                      backoff_seconds=sms.backoff_seconds, claim_seconds=j.claim_seconds,
                      rate_limit_rps=sms.rate_limit_rps, concurrent_sends=sms.concurrent_sends),
            self.owner, on_gave_up=lambda s, msg, code, error: give_up(s, msg, code, error, self.dispatcher.units))
        self.delivery = DeliveryPolicy(max_attempts=wb.max_attempts, backoff_seconds=wb.backoff_seconds,
                                       max_backoff_seconds=wb.max_backoff_seconds, claim_seconds=j.claim_seconds)
        self.deadlines = Deadlines(config.sla, units=lambda: self.dispatcher.units)  # as units.yaml reloads
        self.stats = deciders_from(config) if config.stats.enabled else None  # industries.yaml, hotwords.yaml
        self.aliases = aliases_from(config) if config.watch.enabled else None  # businesses.yaml
        self.warnings = Warnings(alert_rules_from(config, self.dispatcher.units),   # alerts.yaml
                                 units=lambda: self.dispatcher.units) if config.watch.enabled else None
        self.surge_labels = Labels.of(config, None, industries_from(config), districts_from(config)) \
            if config.stats.enabled else None   # an industry's and a district's name in a surge alert
        self.index_rules = index_rules_from(config) if config.watch.enabled and config.stats.enabled else None
        use_links(links_from(config))
        install_listeners()
        self._watch_looked_back = float("-inf")
        self.stopping = threading.Event()   # jobs that work through a long list look at it between items
        self._stopped, self._stop_lock = threading.Event(), threading.Lock()
        self.scheduler: Optional[BackgroundScheduler] = None
        self.runs = wake.JobRuns(self._start_now, self.stopping.is_set)
        self.listener: Optional[wake.Listener] = None
        self.stand_ins: list = []
        self.web_server, self.web_url = None, None

    @property
    def dispatcher(self):
        """The dispatcher as the last reload left it."""
        return self.rules.dispatcher

    def poll(self, name: str):
        on_withdrawn = lambda s, result: withdrawn_at_source(s, result, self.dispatcher.units,  # noqa: E731
                                                             self.config.sms.templates.recalled)
        report = poll_channel(self.db, self.connectors[name], self.owner, hooks=[on_withdrawn],
                              lease_seconds=self.config.jobs.claim_seconds, stopping=self.stopping.is_set,
                              max_batches=POLL_BATCHES)
        if report.batches >= POLL_BATCHES:  # more is waiting at the source: poll again at once
            self.runs.wake(f"poll:{name}")
        return report

    def dispatch(self) -> int:
        dup = self.config.duplicates
        return dispatch_new(self.db, self.rules(), hooks=[self._on_dispatched],
                            duplicates=DuplicatePolicy(dup.window_days, dup.min_similarity) if dup.enabled else None)

    def _on_dispatched(self, session, dispatched: list[Dispatched]) -> None:
        template = self.config.sms.templates.dispatched
        plan_many(session, [dispatch_notice(d.ticket, d.unit, template, d.event_id) for d in dispatched])
        if self.config.sla.enabled:
            start_clocks_many(session, self.deadlines, [(d.ticket, d.unit) for d in dispatched])
        if dispatched and self.config.watch.enabled:   # the early-warning rules look at them now, not in 10 s
            wake.work_for(session, "watch")

    def scan_deadlines(self):
        return scan_due(self.db, self.deadlines) if self.config.sla.enabled else None

    def send_sms(self):
        return self.sms.send_due(stopping=self.stopping.is_set)

    def deliver(self):
        return deliver_due(self.db, self.connectors, self.owner, self.delivery, stopping=self.stopping.is_set)

    def reconcile(self):
        wb = self.config.writeback
        return reconcile(self.db, self.connectors, hours=wb.reconcile_hours, requeue=wb.reconcile_requeue)

    def catch_up_stats(self):
        return catch_up(self.db, self.stats, stopping=self.stopping.is_set) if self.stats else None

    def watch_businesses(self):
        """The business registry takes in new and changed tickets, and the early-warning rules look at them."""
        if self.aliases is None:
            return None
        # A dispatch wakes this job, several times a second when orders pour in; the last two minutes are read
        # again at most every WATCH_LOOK_BACK_SECONDS, or each run would hold SQLite from dispatch and SMS.
        now = time.monotonic()
        look_back = now - self._watch_looked_back >= WATCH_LOOK_BACK_SECONDS
        if look_back:
            self._watch_looked_back = now
        return businesses.catch_up(self.db, self.aliases, hooks=[self.warnings], stopping=self.stopping.is_set,
                                   look_back=look_back)

    def scan_surges(self):
        """The series of the statistics' rollup looked at for surges (alerts.yaml `surge:`)."""
        if self.warnings is None or self.stats is None:
            return None
        with self.db.transaction() as s:
            return len(surge.scan(s, self.warnings.rules, self.dispatcher.units, calendar=self.deadlines.calendar,
                                  label=self.surge_labels.label))

    def compute_index(self):
        """The handling index of every business, kept as today's (index.yaml)."""
        if self.index_rules is None:
            return None
        with self.db.transaction() as s:
            return index.compute(s, self.index_rules)

    def jobs(self) -> list[tuple[str, Callable, float]]:
        j, wb = self.config.jobs, self.config.writeback
        jobs = [(f"poll:{ch.name}", lambda n=ch.name: self.poll(n), ch.poll_seconds) for ch in self.config.channels
                if ch.name in self.connectors and type(self.connectors[ch.name]).pull is not Connector.pull]
        jobs += [("dispatch", self.dispatch, j.dispatch_seconds), ("sla", self.scan_deadlines,
                 self.config.sla.scan_seconds), ("sms", self.send_sms, j.sms_seconds),
                 ("outbox", self.deliver, j.outbox_seconds)]   # push kinds (walk-in, Open311) have nothing to poll
        if self.config.stats.enabled:
            jobs.append(("stats", self.catch_up_stats, self.config.stats.catch_up_seconds))
        if self.config.watch.enabled:
            jobs.append(("watch", self.watch_businesses, self.config.watch.catch_up_seconds))
            if self.config.stats.enabled:
                jobs.append(("surge", self.scan_surges, self.config.watch.surge_seconds))
                jobs.append(("index", self.compute_index, self.config.watch.index_hours * 3600))
        if wb.reconcile_minutes:
            jobs.append(("reconcile", self.reconcile, wb.reconcile_minutes * 60))
        return jobs

    def prepare(self) -> None:
        """Bring the schema up to date before any job runs, and deadlines computed under another calendar."""
        upgrade(self.db.engine)
        if self.config.sla.enabled:
            recompute_stale(self.db, self.deadlines)

    def run_once(self) -> None:
        """Run each job once, in the order a ticket travels, and return."""
        self.prepare()
        for name, job, _ in self.jobs():
            self._guarded(name, job)

    def _guarded(self, name: str, job: Callable) -> None:
        self.runs.run(name, job)

    def _start_now(self, name: str) -> None:
        if self.scheduler is not None and self.scheduler.running:
            try:
                self.scheduler.modify_job(name, next_run_time=datetime.now(timezone.utc))
            except JobLookupError:  # stopping, or a job this configuration does not run
                pass

    def start_demo(self) -> None:
        """The stand-ins named in `demo:`, so the default configuration shows tickets flowing; stopped by stop()."""
        self.stand_ins += start_demo(self.config)

    def start_web(self) -> None:
        """Serve the webhooks, pages and health from this process, if `web.enabled`."""
        if self.config.web.enabled:
            from web.app import WebContext, serve_here
            from web.sms_routes import STATUS_PATH

            self.web_server, self.web_url = serve_here(WebContext(self.config, self.db, self.rules.current))
            if not self.config.sms.status_callback_url:  # delivery reports come back to this service
                self.sms.policy.status_callback = self.web_url + STATUS_PATH
            if not self.config.web.public_url:  # the port bound, when the configuration leaves it to the system
                use_links(links_from(self.config, self.web_url))
                if not self.config.demo.enabled:
                    log.warning("web_public_url_unset", links_to=self.web_url,
                                hint="set web.public_url to the address phones reach: the SMS links use it")

    def start(self) -> None:
        """Start the stand-ins, the web service and the jobs on their intervals, and return."""
        self.prepare()
        self.start_demo()
        self.start_web()
        self.scheduler = BackgroundScheduler(timezone=CHINA_TZ)
        for name, job, seconds in self.jobs():   # at once, but reconciliation re-reads whole windows: it waits
            first = {} if name == "reconcile" else {"next_run_time": datetime.now(timezone.utc)}
            # Two instances, so that a wake-up is never skipped by the scheduler; `runs` lets only one work.
            self.scheduler.add_job(self._guarded, "interval", args=(name, job), seconds=seconds, id=name,
                                   max_instances=2, coalesce=True, **first)
        self.scheduler.start()
        # Work made here or, on PostgreSQL, by another process starts the job that does it, not its interval.
        self._unsubscribe = [wake.subscribe(job, lambda job=job: self.runs.wake(job)) for job in wake.JOBS]
        if self.db.dialect == "postgresql":
            self.listener = wake.Listener(self.db.libpq_dsn()).start()
        log.info("worker_started", owner=self.owner, database=self.db.dialect, channels=list(self.connectors))

    def stop(self) -> None:
        """Tell running jobs to wind down rather than finish their lists, wait for them, and close everything."""
        self.stopping.set()
        with self._stop_lock:
            if self._stopped.is_set():
                return
            for unsubscribe in getattr(self, "_unsubscribe", ()):
                unsubscribe()
            if self.listener is not None:
                self.listener.stop()
            if self.scheduler is not None and self.scheduler.running:
                self.scheduler.shutdown(wait=True)
            if self.web_server is not None:
                self.web_server.should_exit = True
            stop_demo(self.stand_ins)
            self.db.dispose()
            self._stopped.set()
        log.info("worker_stopped", owner=self.owner)

    def join(self, timeout: Optional[float] = None) -> bool:
        """Wait until stop() has finished; False if `timeout` seconds passed first."""
        return self._stopped.wait(timeout)


if __name__ == "__main__":
    from cli.main import main as cli_main

    sys.exit(cli_main(["run", *sys.argv[1:]]))
